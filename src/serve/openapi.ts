// The service's API as OpenAPI route schemas (served at /docs by @fastify/swagger). They describe
// what the handlers accept and answer; server.ts lets them neither check requests nor rewrite
// answers (every body is raw bytes, judged by the handler; answers are JSON.stringify'd).

import type { FastifySchema } from 'fastify';
import { DEVICE_PATTERN } from '../nn/device.js';

export const API_DESCRIPTION = [
  'Classifies the few-kbps cropped H.264 streams an edge device sends (mvclass edge): the stream\'s motion rate R_motion is measured from its P frames,',
  'the Multi-CNN thresholds {R_L, R_H} for the budget choose the network (mv3d below R_L, mv2d below R_H, else the spatial network on the key frame, or on every frame of the stream\'s decoded-frame clip when it learnt clips),',
  'and only that network scores the stream (with fuse=1, the spatial network too, and top5 is the two streams\' mean).',
].join(' ');

const error = {
  type: 'object',
  description:
    'Why the request was refused, in words. The service\'s own answers have only `error`; those Fastify gives before the handler runs (404, 413 body too large) also carry statusCode, code and message.',
  required: ['error'],
  properties: { error: { type: 'string' } },
  additionalProperties: true,
} as const;

const errors = (codes: Record<string, string>) =>
  Object.fromEntries(Object.entries(codes).map(([code, description]) => [code, { description, content: { 'application/json': { schema: error } } }]));

const probability = { type: 'number', minimum: 0, maximum: 1 } as const;

const streamScores = {
  type: 'object',
  required: ['top1', 'probability', 'scores'],
  properties: {
    top1: { type: 'string', description: 'the class this network ranks first' },
    probability: { ...probability, description: 'its softmax probability (mean over the test views)' },
    scores: { type: 'array', items: probability, description: 'one probability per class, in the order of /healthz classes' },
  },
} as const;

const threshold = { type: ['number', 'string', 'null'], description: 'kbps of R_motion; the string "Infinity" when unbounded; null when the budget is infeasible' } as const;

const answer = {
  type: 'object',
  required: ['top5', 'chosen', 'mcnn', 'streams', 'stream', 'seconds'],
  properties: {
    top5: {
      type: 'array',
      maxItems: 5,
      description: 'the classes ranked by the chosen network (by the mean of the chosen and the spatial network with fuse=1)',
      items: { type: 'object', required: ['class', 'probability'], properties: { class: { type: 'string' }, probability } },
    },
    chosen: { type: 'string', enum: ['mv3d', 'mv2d', 'spatial'], description: 'the network the Multi-CNN chose for this stream and budget' },
    mcnn: {
      type: 'object',
      required: ['budget', 'feasible', 'rL', 'rH', 'rMotion'],
      properties: {
        budget: { type: ['number', 'null'], description: 'the budget asked for, kbps (null: none, the thresholds of an unbounded budget)' },
        feasible: { type: 'boolean' },
        rL: threshold,
        rH: threshold,
        rMotion: { type: 'number', minimum: 0, description: 'the stream\'s motion rate, kbps, measured from its P frames as the Multi-CNN\'s fit videos were' },
      },
    },
    streams: {
      type: 'object',
      minProperties: 1,
      description: 'the networks that ran, and only those: the chosen one, and spatial as well with fuse=1',
      properties: { mv3d: streamScores, mv2d: streamScores, spatial: streamScores },
      additionalProperties: false,
    },
    stream: {
      type: 'object',
      required: ['bits', 'duration', 'kbps', 'frames'],
      properties: {
        bits: { type: 'integer', description: 'bits received' },
        duration: { type: 'number', description: 'seconds (a raw Annex-B stream carries no timing: counted at 25 fps)' },
        kbps: { type: 'number' },
        frames: { type: 'integer' },
      },
    },
    seconds: { type: 'object', required: ['total'], additionalProperties: { type: 'number' }, description: 'time per stage (measure, decode, views and infer per network run), and total' },
  },
} as const;

export const classifySchema: FastifySchema = {
  summary: 'classify a (cropped) H.264 stream',
  tags: ['classify'],
  querystring: {
    type: 'object',
    properties: {
      budget: { type: 'number', exclusiveMinimum: 0, description: 'the rate budget, kbps, the Multi-CNN selects for (default: unbounded)' },
      fuse: { type: 'string', enum: ['1', 'true', '0', 'false'], description: 'also run the spatial network and rank by the two streams\' mean scores (when a temporal network is chosen)' },
    },
  },
  body: {
    content: {
      'application/octet-stream': {
        schema: { type: 'string', format: 'binary', description: 'the stream itself: H.264 Annex-B (starting with a start code) or MP4, without B-frames. Any Content-Type is read as these bytes.' },
      },
    },
  },
  response: {
    200: { description: 'the classes and the Multi-CNN\'s choice', content: { 'application/json': { schema: answer } } },
    ...errors({
      400: 'a bad budget or fuse, or an empty body',
      408: 'the request did not arrive in time (headers or body too slow)',
      413: 'a body larger than the service accepts',
      415: 'not an H.264 stream (another codec, a still image, a form, other bytes)',
      422: 'an H.264 stream the service cannot read: damaged or truncated, with B-frames, a picture over the limit, a decoder that crashed or needed too much memory',
      429: 'the queue is full: retry later',
      500: 'a bug in the service',
      503: 'the request ran past the time limit',
    }),
  },
};

export const healthSchema: FastifySchema = {
  summary: 'liveness, the classes, and the load',
  tags: ['operations'],
  response: {
    200: {
      description: 'the service is up',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['status', 'classes', 'device', 'inFlight', 'queued', 'workers'],
            properties: {
              status: { type: 'string', enum: ['ok'] },
              classes: { type: 'array', items: { type: 'string' } },
              device: { type: 'string', pattern: DEVICE_PATTERN, description: 'where the networks run: cpu, cuda or cuda:N' },
              inFlight: { type: 'integer', description: 'requests being classified' },
              queued: { type: 'integer', description: 'requests waiting for a slot' },
              workers: { type: 'integer', description: 'decoding worker processes' },
            },
          },
        },
      },
    },
  },
};

export const metricsSchema: FastifySchema = {
  summary: 'Prometheus metrics: requests by status, latency, bits received, networks chosen, worker deaths',
  tags: ['operations'],
  response: { 200: { description: 'the Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
};
