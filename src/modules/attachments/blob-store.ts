import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomToken } from '../../shared/ids.js';

/**
 * Where attachment bytes live: content-addressed by sha256, so equal files are stored once.
 * The interface is small on purpose so that an S3-compatible store can follow.
 *
 * Protocol (used by the attachments service):
 *  1. `stage` streams the bytes into a private staging object while hashing them;
 *  2. `commit` makes them durable under their sha256 (a no-op when those bytes exist already);
 *  3. the metadata row is written in the invoice transaction;
 *  4. `discard` removes the staging object whatever happened.
 * Bytes are therefore always in place before a row can point at them; a failed transaction
 * leaves unreferenced bytes, which `sweep` (npm run folio -- blobs sweep) removes later.
 */
export interface StagedBlob {
  sha256: string;
  sizeBytes: number;
  /** Opaque to callers (the temp file for the filesystem store). */
  readonly token: string;
}

export interface BlobInfo {
  sha256: string;
  sizeBytes: number;
  modifiedAt: Date;
}

export interface BlobStore {
  stage(source: AsyncIterable<Buffer> | Readable): Promise<StagedBlob>;
  commit(staged: StagedBlob): Promise<void>;
  discard(staged: StagedBlob): Promise<void>;
  open(sha256: string): Promise<Readable>;
  exists(sha256: string): Promise<boolean>;
  list(): AsyncIterable<BlobInfo>;
  delete(sha256: string): Promise<void>;
  /** Removes staging objects older than the cutoff (left by a crash mid-upload). */
  deleteStaleStaging(olderThan: Date): Promise<number>;
}

const shaPattern = /^[0-9a-f]{64}$/;

/** The filesystem store: `<root>/sha256/ab/<sha256>`, staging files in `<root>/tmp`. */
export function createFilesystemBlobStore(root: string): BlobStore {
  const tmpDir = path.join(root, 'tmp');
  const objectsDir = path.join(root, 'sha256');

  function objectPath(sha256: string): string {
    if (!shaPattern.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return path.join(objectsDir, sha256.slice(0, 2), sha256);
  }

  async function fsyncPath(target: string, flags: string) {
    const handle = await fs.open(target, flags);
    try {
      await handle.sync();
    } catch (error) {
      // Some filesystems refuse fsync on directories; the file itself was synced.
      if (flags !== 'r') throw error;
    } finally {
      await handle.close();
    }
  }

  async function exists(sha256: string): Promise<boolean> {
    try {
      await fs.access(objectPath(sha256));
      return true;
    } catch {
      return false;
    }
  }

  return {
    exists,

    async stage(source) {
      await fs.mkdir(tmpDir, { recursive: true });
      const token = path.join(tmpDir, `upload-${Date.now()}-${randomToken(12)}`);
      const hash = createHash('sha256');
      let sizeBytes = 0;
      try {
        await pipeline(
          source,
          async function* hashing(chunks: AsyncIterable<Buffer>) {
            for await (const chunk of chunks) {
              hash.update(chunk);
              sizeBytes += chunk.length;
              yield chunk;
            }
          },
          createWriteStream(token, { flags: 'wx' }),
        );
        await fsyncPath(token, 'r+');
      } catch (error) {
        await fs.rm(token, { force: true });
        throw error;
      }
      return { sha256: hash.digest('hex'), sizeBytes, token };
    },

    async commit(staged) {
      const target = objectPath(staged.sha256);
      if (await exists(staged.sha256)) {
        // De-duplicated. Touch it so a concurrent sweep's grace period protects it.
        const now = new Date();
        await fs.utimes(target, now, now);
        return;
      }
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(staged.token, target);
      await fsyncPath(path.dirname(target), 'r');
    },

    async discard(staged) {
      await fs.rm(staged.token, { force: true });
    },

    async open(sha256) {
      const target = objectPath(sha256);
      const handle = await fs.open(target, 'r'); // fails here (ENOENT) rather than mid-response
      return handle.createReadStream({ autoClose: true });
    },

    async *list() {
      let prefixes: string[];
      try {
        prefixes = await fs.readdir(objectsDir);
      } catch {
        return;
      }
      for (const prefix of prefixes) {
        for (const name of await fs.readdir(path.join(objectsDir, prefix))) {
          if (!shaPattern.test(name)) continue;
          const stat = await fs.stat(path.join(objectsDir, prefix, name));
          yield { sha256: name, sizeBytes: stat.size, modifiedAt: stat.mtime };
        }
      }
    },

    async delete(sha256) {
      await fs.rm(objectPath(sha256), { force: true });
    },

    async deleteStaleStaging(olderThan) {
      let names: string[];
      try {
        names = await fs.readdir(tmpDir);
      } catch {
        return 0;
      }
      let removed = 0;
      for (const name of names) {
        const file = path.join(tmpDir, name);
        const stat = await fs.stat(file).catch(() => null);
        if (stat && stat.mtime < olderThan) {
          await fs.rm(file, { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}

/** Files in the staging area (tests check that a refused upload left nothing behind). */
export async function stagingFiles(root: string): Promise<string[]> {
  return fs.readdir(path.join(root, 'tmp')).catch(() => []);
}
