import { zipSync, type Zippable } from 'fflate';

// The subject-access archive is written by fflate (MIT, no dependencies), a maintained ZIP
// implementation, rather than by hand: deflated entries, UTF-8 names, no encryption.

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/** One archive holding `entries`, each deflated, dated `modified`. */
export function createZip(entries: ZipEntry[], modified: Date): Buffer {
  const files: Zippable = {};
  for (const e of entries) {
    if (e.name in files) throw new Error(`two zip entries named ${e.name}`);
    // os 3 (Unix): unzip then takes the UTF-8 flag at its word instead of reading names as CP437.
    files[e.name] = [new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength), { level: 6, mtime: modified, os: 3 }];
  }
  const archive = zipSync(files);
  return Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
}
