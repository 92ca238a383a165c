import type { AppContext } from '../context.js';
import type { JobHandler } from './queue.js';

/**
 * Every job the worker knows, by task name. Each capability contributes its
 * handlers here; the names are part of the database's contents (pending jobs),
 * so renaming one needs a migration of pending jobs.
 */
export function jobHandlers(_ctx: AppContext): Record<string, JobHandler> {
  return {};
}
