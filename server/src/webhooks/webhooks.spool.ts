import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The durable local spool for verified Cal.com deliveries that cannot reach PostgreSQL.
 *
 * Cal.com never sends a delivery again once we answered it with an HTTP error (FACTS: "Retries"),
 * so a delivery whose signature verified is acknowledged even while the database is down: it is
 * written here first, fsync'd (file and directory) before the 2xx, and drained into the normal
 * intake path, in order and idempotently, when the database is back. The spool is bounded: when it
 * is full the delivery is answered 503 and counted, and only reconciliation can heal it.
 *
 * One file per delivery, named by arrival (time and a sequence number) and this spool's own random
 * tag, written to a temporary name and renamed, so a crash leaves either a whole entry or none.
 * Each instance should have its own (the bound is counted per instance), but two that were given
 * the same directory (several `npm run serve` in one folder, replicas sharing one volume) lose
 * nothing: the tag keeps their names apart, so one can never rename over the other's entry, and an
 * entry the other drained first is skipped, not an error. Both then drain what is there, which the
 * intake's idempotence makes harmless.
 */

interface SpooledDelivery {
  /** The spool's own id (the file name): drain order. */
  id: string;
  tenantId: string;
  tenantSlug: string;
  receivedAt: Date;
  /** The exact bytes Cal.com signed. */
  body: Buffer;
}

interface Entry {
  v: 1;
  tenantId: string;
  tenantSlug: string;
  receivedAt: string;
  body: string;
}

export class SpoolFull extends Error {
  override name = 'SpoolFull';
}

export interface Spool {
  /** Writes one verified delivery durably; throws {@link SpoolFull} past the bound, or the disk's error. */
  append(d: Omit<SpooledDelivery, 'id'>): string;
  /** Entries in arrival order (at most `limit`). An entry that cannot be read is moved aside, not returned. */
  list(limit?: number): SpooledDelivery[];
  /** Moves an entry out of the drain's way (kept for a person to look at). */
  setAside(id: string): void;
  /** Forgets one entry once the database has it. */
  remove(id: string): void;
  /** Entries and bytes waiting. */
  size(): { entries: number; bytes: number };
  readonly dir: string;
}

// The tag came with several instances on one directory; untagged names are older entries, still drained.
const NAME = /^(\d{13})-(\d{10})(?:-[0-9a-f]{8})?\.json$/;

const gone = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code === 'ENOENT';

export function createSpool(options: { dir: string; maxBytes: number; now?: () => number }): Spool {
  const { dir, maxBytes } = options;
  const now = options.now ?? Date.now;
  const rejected = join(dir, 'unreadable');
  const tag = randomBytes(4).toString('hex');
  let seq = 0;
  // What is already waiting counts against the bound; kept up to date without a directory scan per write.
  // The directory is made on first use, so an instance that never spools needs no writable disk.
  let bytes = 0;
  let entries = 0;
  const existing = (() => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  })();
  for (const f of existing) {
    if (!NAME.test(f)) continue;
    try {
      bytes += statSync(join(dir, f)).size;
    } catch (e) {
      // Drained meanwhile by another instance on the same directory.
      if (gone(e)) continue;
      throw e;
    }
    entries++;
    seq = Math.max(seq, Number(NAME.exec(f)![2]) + 1);
  }

  function fsyncDir() {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  return {
    dir,
    append(d) {
      const entry: Entry = { v: 1, tenantId: d.tenantId, tenantSlug: d.tenantSlug, receivedAt: d.receivedAt.toISOString(), body: d.body.toString('base64') };
      const data = Buffer.from(JSON.stringify(entry));
      if (bytes + data.length > maxBytes) throw new SpoolFull(`the webhook spool holds ${bytes} bytes; its bound is ${maxBytes}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const id = `${String(now()).padStart(13, '0')}-${String(seq++).padStart(10, '0')}-${tag}.json`;
      const tmp = join(dir, `.${id}.tmp`);
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, data);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(dir, id));
      fsyncDir();
      bytes += data.length;
      entries++;
      return id;
    },
    list(limit = 100) {
      if (entries === 0) return [];
      const names = readdirSync(dir)
        .filter((f) => NAME.test(f))
        .sort()
        .slice(0, limit);
      const out: SpooledDelivery[] = [];
      for (const id of names) {
        try {
          const e = JSON.parse(readFileSync(join(dir, id), 'utf8')) as Entry;
          if (e.v !== 1 || typeof e.tenantId !== 'string' || typeof e.body !== 'string') throw new Error('not a spool entry');
          out.push({ id, tenantId: e.tenantId, tenantSlug: e.tenantSlug, receivedAt: new Date(e.receivedAt), body: Buffer.from(e.body, 'base64') });
        } catch (e) {
          // Drained meanwhile by another instance on the same directory: nothing to set aside.
          if (gone(e)) continue;
          // Kept for a person to look at, out of the drain's way.
          mkdirSync(rejected, { recursive: true, mode: 0o700 });
          try {
            const size = statSync(join(dir, id)).size;
            renameSync(join(dir, id), join(rejected, id));
            bytes -= size;
            entries--;
          } catch (moved) {
            if (!gone(moved)) throw moved;
          }
        }
      }
      return out;
    },
    setAside(id) {
      if (!NAME.test(id)) return;
      let size = 0;
      try {
        size = statSync(join(dir, id)).size;
      } catch {
        return;
      }
      mkdirSync(rejected, { recursive: true, mode: 0o700 });
      try {
        renameSync(join(dir, id), join(rejected, id));
      } catch (e) {
        if (gone(e)) return;
        throw e;
      }
      bytes -= size;
      entries--;
    },
    remove(id) {
      if (!NAME.test(id)) return;
      const path = join(dir, id);
      let size = 0;
      try {
        size = statSync(path).size;
      } catch {
        return;
      }
      rmSync(path, { force: true });
      bytes -= size;
      entries--;
    },
    size() {
      return { entries, bytes };
    },
  };
}
