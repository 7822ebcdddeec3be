// The synthetic action classes: each maps time to a Pose. They are built so that a single frame
// is a weak cue and motion the strong one: walk and run share their poses and differ in speed
// and cadence; wave and clap use the same arms and differ in the path the hands take; jump and
// rope-skip both bounce and differ in rhythm and arms.

import type { Pose } from './figure.js';

export interface ActionParams {
  /** Seconds. */
  t: number;
  /** Phase offset in radians. */
  phase: number;
  /** Tempo multiplier (0.8..1.2). */
  tempo: number;
  /** Figure height in pixels. */
  height: number;
  /** Frame width, for travelling actions. */
  frameWidth: number;
  /** Start position of the hip. */
  x0: number;
  y0: number;
}

export type ActionName = 'walk' | 'run' | 'jump' | 'wave' | 'clap' | 'spin' | 'punch' | 'skip';
export const ACTIONS: readonly ActionName[] = ['walk', 'run', 'jump', 'wave', 'clap', 'spin', 'punch', 'skip'];

const still = (p: ActionParams): Pose => ({
  x: p.x0,
  y: p.y0,
  lean: 0,
  leftArm: [0.15, 0.1],
  rightArm: [-0.15, 0.1],
  leftLeg: [0.08, 0],
  rightLeg: [-0.08, 0],
  armScale: 1,
});

/** Back-and-forth travel across the frame at `speed` pixels per second (turning at the edges). */
function travel(p: ActionParams, speed: number): number {
  const span = Math.max(1, p.frameWidth - p.height * 0.6);
  const d = (p.x0 - p.height * 0.3 + speed * p.t) % (2 * span);
  return p.height * 0.3 + (d < span ? d : 2 * span - d);
}

function gait(p: ActionParams, cadence: number, swing: number, speed: number, lean: number): Pose {
  const w = 2 * Math.PI * cadence * p.tempo * p.t + p.phase;
  const s = Math.sin(w);
  return {
    ...still(p),
    x: travel(p, speed * p.tempo * (p.height / 80)),
    y: p.y0 - Math.abs(Math.cos(w)) * swing * 6,
    lean,
    leftLeg: [swing * s, Math.max(0, -s) * swing],
    rightLeg: [-swing * s, Math.max(0, s) * swing],
    leftArm: [-swing * 0.8 * s, 0.4],
    rightArm: [swing * 0.8 * s, 0.4],
  };
}

export function poseOf(action: ActionName, p: ActionParams): Pose {
  const w = (hz: number) => 2 * Math.PI * hz * p.tempo * p.t + p.phase;
  switch (action) {
    case 'walk':
      return gait(p, 1.0, 0.45, 25, 0.03);
    case 'run':
      return gait(p, 1.9, 0.55, 75, 0.12);
    case 'jump': {
      const h = Math.abs(Math.sin(w(0.8)));
      return {
        ...still(p),
        y: p.y0 - h * p.height * 0.35,
        leftLeg: [0.2 * (1 - h), 0.6 * (1 - h)],
        rightLeg: [-0.2 * (1 - h), 0.6 * (1 - h)],
        leftArm: [2.6 * h + 0.2, 0.1],
        rightArm: [-2.6 * h - 0.2, -0.1],
      };
    }
    case 'wave': {
      // One arm up, the forearm sweeping side to side above the head.
      const s = Math.sin(w(1.6));
      return { ...still(p), rightArm: [2.5, 0.6 + 0.7 * s] };
    }
    case 'clap': {
      // Both arms forward at chest height, hands meeting and parting along a horizontal path.
      const s = 0.5 + 0.5 * Math.sin(w(1.8));
      return { ...still(p), leftArm: [1.5, 0.2 + 0.9 * s], rightArm: [1.5, -0.2 - 0.9 * s], armScale: 0.35 + 0.65 * s };
    }
    case 'spin': {
      const a = w(0.7);
      return { ...still(p), leftArm: [1.57, 0], rightArm: [-1.57, 0], armScale: Math.cos(a), lean: 0.05 * Math.sin(a) };
    }
    case 'punch': {
      // Alternating jabs: fast extension, slower return.
      const cycle = (w(1.2) / (2 * Math.PI)) % 1;
      const phase = ((cycle % 0.5) + 0.5) % 0.5 / 0.5;
      const reach = phase < 0.3 ? phase / 0.3 : 1 - (phase - 0.3) / 0.7;
      const left = cycle % 1 < 0.5;
      const jab: [number, number] = [1.2 + 0.37 * reach, -1.8 * (1 - reach)];
      const guard: [number, number] = [1.0, -1.9];
      return { ...still(p), lean: 0.06, leftArm: left ? jab : guard, rightArm: left ? guard : jab };
    }
    case 'skip': {
      // Small fast hops, hands circling at the sides (turning a rope).
      const a = w(2.0);
      const h = Math.abs(Math.sin(a));
      return {
        ...still(p),
        y: p.y0 - h * p.height * 0.08,
        leftArm: [0.6 + 0.35 * Math.cos(a), 0.9 + 0.5 * Math.sin(a)],
        rightArm: [-0.6 - 0.35 * Math.cos(a), -0.9 - 0.5 * Math.sin(a)],
        leftLeg: [0.05, 0.25 * (1 - h)],
        rightLeg: [-0.05, 0.25 * (1 - h)],
      };
    }
  }
}
