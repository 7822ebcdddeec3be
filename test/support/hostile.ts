// Hostile H.264 streams, crafted from a valid Annex-B stream: each is one of the reproducers of
// issue 11 (a slice that starts outside the picture, an in-band SPS that shrinks the picture,
// parameter-set fields past the standard's limits). Small enough to make in every test run, so
// none is committed. The rewriting works on RBSP bits: a field is replaced and every bit after
// it is copied, so the rest of the NAL unit stays what the encoder wrote.

export interface HostileStream {
  name: string;
  bytes: Buffer;
  /** What crop (or the service) must say about it. */
  expect: RegExp;
}

type Nal = Buffer; // header byte first, escaped payload

export function splitAnnexB(stream: Buffer): Nal[] {
  const nals: Nal[] = [];
  let start = -1;
  for (let i = 0; i + 2 < stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        while (end > start && stream[end - 1] === 0) end--;
        nals.push(stream.subarray(start, end));
      }
      i += 2;
      start = i + 1;
    }
  }
  if (start >= 0 && start < stream.length) nals.push(stream.subarray(start));
  return nals;
}

export function joinAnnexB(nals: Nal[]): Buffer {
  return Buffer.concat(nals.flatMap((n) => [Buffer.from([0, 0, 0, 1]), n]));
}

function unescape(payload: Buffer): number[] {
  const out: number[] = [];
  let zeros = 0;
  for (const b of payload) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out.push(b);
  }
  return out;
}

function escape(rbsp: number[]): number[] {
  const out: number[] = [];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out;
}

class Bits {
  pos = 0;
  constructor(readonly bytes: number[]) {}
  bit(): number {
    const b = (this.bytes[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) zeros++;
    return 2 ** zeros - 1 + this.u(zeros);
  }
}

class Writer {
  bits: number[] = [];
  u(n: number, v: number): void {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(v / 2 ** i) % 2);
  }
  ue(v: number): void {
    const x = v + 1;
    const len = Math.floor(Math.log2(x));
    for (let i = 0; i < len; i++) this.bits.push(0);
    this.u(len + 1, x);
  }
  se(v: number): void {
    this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }
  copy(r: Bits, untilBit: number): void {
    while (r.pos < untilBit) this.bits.push(r.bit());
  }
  bytes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.bits.length; i += 8) {
      let b = 0;
      for (let k = 0; k < 8; k++) b = b * 2 + (this.bits[i + k] ?? 0);
      out.push(b);
    }
    return out;
  }
}

/** Rewrites one NAL unit: `edit` reads fields from `r` and writes them (changed or not) to `w`;
 * every bit after what it read is copied as it is, the RBSP trailing bits included. */
function rewriteNal(nal: Nal, edit: (r: Bits, w: Writer) => void): Nal {
  const rbsp = unescape(nal.subarray(1));
  const r = new Bits(rbsp);
  const w = new Writer();
  edit(r, w);
  w.copy(r, rbsp.length * 8);
  return Buffer.from([nal[0]!, ...escape(w.bytes())]);
}

const type = (nal: Nal) => nal[0]! & 0x1f;
const HIGH = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

interface SpsEdit {
  id?: number;
  log2MaxFrameNumMinus4?: number;
  widthMbsMinus1?: number;
  heightMbsMinus1?: number;
  /** Turns pic_order_cnt_type 2 into 0 with this log2_max_pic_order_cnt_lsb_minus4 (or changes it). */
  log2MaxPocLsbMinus4?: number;
}

/** An SPS with some fields replaced; the parser follows the syntax up to frame_mbs_only_flag. */
function editSps(nal: Nal, e: SpsEdit): Nal {
  return rewriteNal(nal, (r, w) => {
    const profile = r.u(8);
    w.u(8, profile);
    w.u(16, r.u(16)); // constraint flags, level
    const id = r.ue();
    w.ue(e.id ?? id);
    if (HIGH.has(profile)) {
      const chroma = r.ue();
      w.ue(chroma);
      if (chroma === 3) w.u(1, r.u(1));
      w.ue(r.ue());
      w.ue(r.ue());
      w.u(1, r.u(1));
      const scaling = r.u(1);
      if (scaling) throw new Error('hostile.ts: SPS scaling lists are not handled');
      w.u(1, scaling);
    }
    const frameNum = r.ue();
    w.ue(e.log2MaxFrameNumMinus4 ?? frameNum);
    const pocType = r.ue();
    if (pocType === 1) throw new Error('hostile.ts: pic_order_cnt_type 1 is not handled');
    if (pocType === 0) {
      const lsb = r.ue();
      w.ue(0);
      w.ue(e.log2MaxPocLsbMinus4 ?? lsb);
    } else if (e.log2MaxPocLsbMinus4 !== undefined) {
      w.ue(0);
      w.ue(e.log2MaxPocLsbMinus4);
    } else {
      w.ue(pocType);
    }
    w.ue(r.ue()); // max_num_ref_frames
    w.u(1, r.u(1)); // gaps_in_frame_num_value_allowed_flag
    const width = r.ue();
    const height = r.ue();
    w.ue(e.widthMbsMinus1 ?? width);
    w.ue(e.heightMbsMinus1 ?? height);
  });
}

/** A slice with first_mb_in_slice replaced. */
function withFirstMb(nal: Nal, firstMb: number): Nal {
  return rewriteNal(nal, (r, w) => {
    r.ue();
    w.ue(firstMb);
  });
}

/** A PPS with pic_parameter_set_id (and optionally seq_parameter_set_id) replaced. */
function editPpsIds(nal: Nal, ppsId: number, spsId?: number): Nal {
  return rewriteNal(nal, (r, w) => {
    r.ue();
    w.ue(ppsId);
    const sps = r.ue();
    w.ue(spsId ?? sps);
  });
}

/** Index of the first non-IDR slice NAL unit (a P slice in the streams crop takes). */
function firstP(nals: Nal[]): number {
  const i = nals.findIndex((n) => type(n) === 1);
  if (i < 0) throw new Error('hostile.ts: the stream has no non-IDR slice');
  return i;
}

function replaceAll(nals: Nal[], t: number, f: (n: Nal) => Nal): Nal[] {
  return nals.map((n) => (type(n) === t ? f(n) : n));
}

/** The slice NAL units of the first picture made of non-IDR slices: [first index, end index). */
function firstPPicture(nals: Nal[]): [number, number] {
  const start = firstP(nals);
  const firstMb = (nal: Nal) => new Bits(unescape(nal.subarray(1))).ue();
  let end = start + 1;
  while (end < nals.length && type(nals[end]!) === 1 && firstMb(nals[end]!) !== 0) end++;
  return [start, end];
}

/** The reproducers of issue 11, made from `valid`: an Annex-B H.264 stream, one IDR then P frames,
 * 4:2:0, frames only, without SPS scaling lists (what `mvclass encode --bframes 0 -f .264` makes).
 * Parameter sets past the standard's limits arrive in-band, after valid ones: FFmpeg drops them
 * and goes on decoding with the old ones, so they reach crop's own parser. `expect` matches the
 * error crop throws, or (for a stream FFmpeg decodes with damage) one of its warnings. */
export function hostileStreams(valid: Buffer): HostileStream[] {
  const nals = splitAnnexB(valid);
  const p = firstP(nals);
  const [pStart, pEnd] = firstPPicture(nals);
  const sps = nals.findIndex((n) => type(n) === 7);
  const pps = nals.findIndex((n) => type(n) === 8);
  const out: HostileStream[] = [];
  const add = (name: string, list: Nal[], expect: RegExp) => out.push({ name, bytes: joinAnnexB(list), expect });
  const beforeFirstP = (nal: Nal) => [...nals.slice(0, p), nal, ...nals.slice(p)];

  // A second slice in the first P picture, starting far outside it (the heap overflow).
  const outside = (firstMb: number) => [...nals.slice(0, p + 1), withFirstMb(nals[p]!, firstMb), ...nals.slice(p + 1)];
  add('slice-first-mb-5000', outside(5000), /first_mb_in_slice 5000 is outside the picture of 300 macroblocks/);
  add('slice-first-mb-2^32-2', outside(2 ** 32 - 2), /first_mb_in_slice 4294967294 is out of range/);
  // Slices of one picture out of order (a picture of three slices or more: the 2nd and 3rd
  // swapped). In Annex-B, FFmpeg's parser starts a new access unit where first_mb_in_slice goes
  // back, so the decoder reports the damage; in a container whose packet is the access unit,
  // crop refuses the order itself.
  if (pEnd - pStart >= 3) {
    const swapped = [...nals];
    [swapped[pStart + 1], swapped[pStart + 2]] = [swapped[pStart + 2]!, swapped[pStart + 1]!];
    add('slices-out-of-order', swapped, /slices out of order or repeated are not supported|illegal short term buffer state/);
  }
  // An in-band SPS with the same id that shrinks the picture to 5x4 macroblocks, while the P
  // slices after it keep their old start (or FFmpeg decodes them at the old size).
  add('sps-shrinks-picture', beforeFirstP(editSps(nals[sps]!, { widthMbsMinus1: 4, heightMbsMinus1: 3 })), /is outside the picture of 20 macroblocks|is not the one the sequence parameter set describes/);
  // Parameter sets past the standard's limits.
  add('sps-huge-picture', beforeFirstP(editSps(nals[sps]!, { widthMbsMinus1: 60000, heightMbsMinus1: 60000 })), /pic_width_in_mbs_minus1 60000 is out of range/);
  add('sps-too-many-macroblocks', beforeFirstP(editSps(nals[sps]!, { widthMbsMinus1: 1000, heightMbsMinus1: 1000 })), /larger than any level of the standard allows/);
  add('sps-max-ue-size', beforeFirstP(editSps(nals[sps]!, { widthMbsMinus1: 2 ** 32 - 2, heightMbsMinus1: 2 ** 32 - 2 })), /pic_width_in_mbs_minus1 4294967294 is out of range/);
  add('sps-log2-max-frame-num', beforeFirstP(editSps(nals[sps]!, { log2MaxFrameNumMinus4: 2 ** 31 })), /log2_max_frame_num_minus4 2147483648 is out of range/);
  add('sps-log2-max-poc-lsb', beforeFirstP(editSps(nals[sps]!, { log2MaxPocLsbMinus4: 1000 })), /log2_max_pic_order_cnt_lsb_minus4 1000 is out of range/);
  add('sps-id-max-ue', beforeFirstP(editSps(nals[sps]!, { id: 2 ** 32 - 2 })), /seq_parameter_set_id 4294967294 is out of range/);
  add('pps-id-max-ue', beforeFirstP(editPpsIds(nals[pps]!, 2 ** 32 - 2)), /pic_parameter_set_id 4294967294 is out of range/);
  add('pps-sps-id-max-ue', beforeFirstP(editPpsIds(nals[pps]!, 0, 2 ** 32 - 2)), /seq_parameter_set_id 4294967294 is out of range/);
  // Cut in the middle of a P slice; and a stream that is only parameter sets.
  add('truncated', [...nals.slice(0, p), nals[p]!.subarray(0, Math.max(2, nals[p]!.length >> 1))], /error while decoding|damaged|truncated|could not be decoded/);
  add('parameter-sets-only', nals.filter((n) => type(n) === 7 || type(n) === 8), /no frame size|no frames/);
  return out;
}
