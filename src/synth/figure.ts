// An articulated stick figure: a skeleton posed by joint angles, drawn as thick capsules into a
// YUV 4:2:0 frame. The action classes (actions.ts) only choose angles and positions over time.

export interface Pose {
  /** Hip position in pixels. */
  x: number;
  y: number;
  /** Torso lean from vertical, radians (positive leans toward +x). */
  lean: number;
  /** Per limb: the angle of the upper segment from straight down, and the lower segment's bend. */
  leftArm: [number, number];
  rightArm: [number, number];
  leftLeg: [number, number];
  rightLeg: [number, number];
  /** Horizontal foreshortening of the arms (1 = side view, 0 = edge-on), for spinning. */
  armScale: number;
}

export interface Appearance {
  /** Standing height in pixels (hip to head top is about half). */
  height: number;
  thickness: number;
  luma: number;
  u: number;
  v: number;
  /** +1 faces +x, -1 faces -x (mirrors every angle). */
  facing: 1 | -1;
}

interface Canvas {
  width: number;
  height: number;
  frame: Uint8Array;
}

function capsule(c: Canvas, ax: number, ay: number, bx: number, by: number, r: number, a: Appearance): void {
  const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r));
  const x1 = Math.min(c.width - 1, Math.ceil(Math.max(ax, bx) + r));
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - r));
  const y1 = Math.min(c.height - 1, Math.ceil(Math.max(ay, by) + r));
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy || 1;
  const r2 = r * r;
  const luma = c.width * c.height;
  const cw = c.width >> 1;
  const chromaPlane = cw * (c.height >> 1);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len2));
      const px = ax + t * dx - x;
      const py = ay + t * dy - y;
      if (px * px + py * py > r2) continue;
      c.frame[y * c.width + x] = a.luma;
      if (!(x & 1) && !(y & 1)) {
        c.frame[luma + (y >> 1) * cw + (x >> 1)] = a.u;
        c.frame[luma + chromaPlane + (y >> 1) * cw + (x >> 1)] = a.v;
      }
    }
  }
}

/** Draws `pose` into a width x height YUV 4:2:0 frame. */
export function drawFigure(frame: Uint8Array, width: number, height: number, pose: Pose, a: Appearance): void {
  const c = { width, height, frame };
  const s = a.height;
  const f = a.facing;
  const torso = 0.3 * s;
  const upper = 0.15 * s;
  const lower = 0.14 * s;
  const thigh = 0.23 * s;
  const shin = 0.22 * s;
  const r = a.thickness;
  // Angles measured from straight down, positive swinging toward the facing direction.
  const at = (x: number, y: number, angle: number, length: number, scale = 1): [number, number] => [
    x + f * Math.sin(angle) * length * scale,
    y + Math.cos(angle) * length,
  ];
  const neck: [number, number] = [pose.x + f * Math.sin(pose.lean) * torso, pose.y - Math.cos(pose.lean) * torso];
  capsule(c, pose.x, pose.y, neck[0], neck[1], r * 1.3, a);
  for (const [hipAngle, knee] of [pose.leftLeg, pose.rightLeg]) {
    const kneePoint = at(pose.x, pose.y, hipAngle, thigh);
    const foot = at(kneePoint[0], kneePoint[1], hipAngle - knee, shin);
    capsule(c, pose.x, pose.y, kneePoint[0], kneePoint[1], r, a);
    capsule(c, kneePoint[0], kneePoint[1], foot[0], foot[1], r, a);
  }
  for (const [shoulderAngle, elbow] of [pose.leftArm, pose.rightArm]) {
    const elbowPoint = at(neck[0], neck[1], shoulderAngle, upper, pose.armScale);
    const hand = at(elbowPoint[0], elbowPoint[1], shoulderAngle + elbow, lower, pose.armScale);
    capsule(c, neck[0], neck[1], elbowPoint[0], elbowPoint[1], r * 0.9, a);
    capsule(c, elbowPoint[0], elbowPoint[1], hand[0], hand[1], r * 0.8, a);
  }
  const head = 0.07 * s;
  capsule(c, neck[0], neck[1] - head, neck[0], neck[1] - head, head, a);
}
