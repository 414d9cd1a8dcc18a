// A structural pre-scan of msgpack bytes: enforces nesting depth, refuses extension types, checks every length fits.
// It runs before @msgpack/msgpack builds anything, so hostile frames cost one linear pass and no allocation.
import { FrameDecodeError } from './errors.ts';

/** Deepest container nesting a frame may have (the top-level map or array is level 1). */
export const MAX_NESTING_DEPTH = 64;

/**
 * Walks one msgpack value spanning all of `bytes`. Throws FrameDecodeError on: truncation, trailing bytes, the
 * reserved byte 0xc1, any extension type (0xc7–0xc9, 0xd4–0xd8), nesting over `maxDepth`, or a container that
 * claims more elements than bytes remain (every element needs at least one byte).
 */
export function checkMsgpackStructure(bytes: Uint8Array, maxDepth = MAX_NESTING_DEPTH): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.byteLength;
  const outer: number[] = []; // items still to read in each enclosing container
  let pending = 1; // items still to read at the current level (the top level holds exactly one value)
  let pos = 0;

  const need = (n: number): void => {
    if (pos + n > end) throw new FrameDecodeError('truncated msgpack value');
  };
  const skip = (length: number, header = 0): void => {
    need(header + length);
    pos += header + length;
  };
  const open = (items: number): void => {
    if (items > end - pos) throw new FrameDecodeError(`container claims ${items} items but only ${end - pos} bytes remain`);
    if (outer.length + 1 > maxDepth) throw new FrameDecodeError(`nesting deeper than ${maxDepth} levels`);
    outer.push(pending);
    pending = items;
  };

  for (;;) {
    while (pending === 0) {
      const up = outer.pop();
      if (up === undefined) {
        if (pos !== end) throw new FrameDecodeError(`${end - pos} trailing bytes after the message`);
        return;
      }
      pending = up;
    }
    need(1);
    const b = view.getUint8(pos);
    pos += 1;
    pending -= 1;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue; // fixints, nil, booleans
    if (b <= 0x8f) {
      open((b & 0x0f) * 2); // fixmap: key and value per entry
    } else if (b <= 0x9f) {
      open(b & 0x0f); // fixarray
    } else if (b <= 0xbf) {
      skip(b & 0x1f); // fixstr
    } else {
      switch (b) {
        case 0xc4: case 0xd9: need(1); skip(view.getUint8(pos), 1); break; // bin8, str8
        case 0xc5: case 0xda: need(2); skip(view.getUint16(pos), 2); break; // bin16, str16
        case 0xc6: case 0xdb: need(4); skip(view.getUint32(pos), 4); break; // bin32, str32
        case 0xca: skip(4); break; // float32
        case 0xcb: skip(8); break; // float64
        case 0xcc: case 0xd0: skip(1); break; // uint8, int8
        case 0xcd: case 0xd1: skip(2); break; // uint16, int16
        case 0xce: case 0xd2: skip(4); break; // uint32, int32
        case 0xcf: case 0xd3: skip(8); break; // uint64, int64
        case 0xdc: need(2); pos += 2; open(view.getUint16(pos - 2)); break; // array16
        case 0xdd: need(4); pos += 4; open(view.getUint32(pos - 4)); break; // array32
        case 0xde: need(2); pos += 2; open(view.getUint16(pos - 2) * 2); break; // map16
        case 0xdf: need(4); pos += 4; open(view.getUint32(pos - 4) * 2); break; // map32
        case 0xc1: throw new FrameDecodeError('reserved msgpack byte 0xc1');
        default: throw new FrameDecodeError(`msgpack extension types are not accepted (0x${b.toString(16)})`);
      }
    }
  }
}
