import type { EventSink } from '../engine/events.js';

export interface Renderer {
  sink: EventSink;
  /** Resolves once everything is on screen. */
  close(): Promise<void>;
}

export type OutputMode = 'auto' | 'tty' | 'plain' | 'json';

/** Sends every event to each renderer. */
export function fanOut(...renderers: Renderer[]): Renderer {
  return {
    sink: (event) => {
      for (const r of renderers) r.sink(event);
    },
    close: async () => {
      await Promise.all(renderers.map((r) => r.close()));
    },
  };
}
