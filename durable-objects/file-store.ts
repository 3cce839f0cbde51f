// One file kept in Durable Object storage, as ordered pieces: one instance per file, named by the
// file's key. A thin RPC adapter over shared/file-pieces.ts; storage/file-store.ts drives it.

import { DurableObject } from "cloudflare:workers";
import { FilePieces } from "../shared/file-pieces";

export class FileStore extends DurableObject<Env> {
  private readonly pieces = new FilePieces(this.ctx.storage);

  /** Stores `data` at byte `offset`, replacing anything at or after it (a retried write leaves one copy). */
  writeAt(offset: number, data: Uint8Array): void {
    this.pieces.writeAt(offset, data);
  }

  /** Up to `length` bytes from `offset`. */
  readAt(offset: number, length: number): Uint8Array {
    return this.pieces.readAt(offset, length);
  }

  storedBytes(): number {
    return this.pieces.storedBytes();
  }

  deleteFile(): void {
    this.pieces.deleteAll();
  }
}
