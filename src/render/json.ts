import type { Writable } from 'node:stream';
import type { Renderer } from './renderer.js';

/** One JSON object per line, for machines. */
export function jsonRenderer(out: Writable): Renderer {
  return {
    sink: (event) => out.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`),
    close: async () => undefined,
  };
}
