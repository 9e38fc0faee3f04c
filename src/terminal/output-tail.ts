/**
 * The unfinished end of a chunk of terminal output: an escape sequence or UTF-8 character that the
 * next chunk completes. When the host stops forwarding output at a chunk boundary and later
 * repaints from its mirror, the real terminal must be left mid-sequence exactly where the mirror
 * is, or the rest of the sequence (forwarded next) would print as text.
 */

const ESC = 0x1b;
const BEL = 0x07;
// ESC followed by one of these opens a string that runs until BEL (OSC only) or ST (ESC \).
const STRING_INTRODUCERS = new Set([0x5d /* ] OSC */, 0x50 /* P DCS */, 0x5f /* _ APC */, 0x5e /* ^ PM */, 0x58 /* X SOS */]);

/** The bytes at the end of `chunk` that begin a sequence or character it does not finish (possibly none). */
export function unfinishedTail(chunk: Buffer): Buffer {
  const esc = chunk.lastIndexOf(ESC);
  if (esc >= 0 && !escapeFinished(chunk, esc)) return chunk.subarray(esc);
  return chunk.subarray(chunk.length - unfinishedUtf8Length(chunk));
}

function escapeFinished(chunk: Buffer, esc: number): boolean {
  const n = chunk.length;
  const kind = chunk[esc + 1];
  if (kind === undefined) return false;
  if (kind === 0x5b) {
    // CSI: parameter and intermediate bytes (0x20-0x3f), then one final byte (0x40-0x7e).
    for (let i = esc + 2; i < n; i++) {
      const byte = chunk[i] ?? 0;
      if (byte >= 0x40 && byte <= 0x7e) return true;
      if (byte < 0x20 || byte > 0x3f) return true; // malformed: a terminal gives up on it too
    }
    return false;
  }
  if (STRING_INTRODUCERS.has(kind)) {
    // The last ESC starts the string, so an ST (ESC \) cannot follow; only OSC's BEL can end it.
    return kind === 0x5d && chunk.indexOf(BEL, esc + 2) >= 0;
  }
  // ESC, intermediates (0x20-0x2f), final: unfinished while only intermediates have come.
  for (let i = esc + 1; i < n; i++) {
    const byte = chunk[i] ?? 0;
    if (byte < 0x20 || byte > 0x2f) return true;
  }
  return false;
}

/** How many bytes at the end of `chunk` start a UTF-8 character that is cut off. */
function unfinishedUtf8Length(chunk: Buffer): number {
  // A character is at most 4 bytes: look at most 3 back for its lead byte.
  for (let back = 1; back <= Math.min(3, chunk.length); back++) {
    const byte = chunk[chunk.length - back] ?? 0;
    if (byte < 0x80) return 0; // ASCII: nothing cut off
    if (byte >= 0xc0) {
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return needed > back ? back : 0;
    }
    // 10xxxxxx continuation byte: keep looking for the lead
  }
  return 0;
}
