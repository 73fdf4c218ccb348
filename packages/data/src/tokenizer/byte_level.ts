// GPT-2's byte-level alphabet and pre-tokenizer (Radford et al. 2019, openai/gpt-2 encoder.py):
// every UTF-8 byte is mapped to a printable character, so any text becomes a string over 256
// symbols with no unknown token, and text is first cut into words by a regular expression.

/** Byte → printable character: bytes that are printable Latin-1 map to themselves, the others
 *  (controls, space, 0x7F–0xA0, 0xAD) to U+0100 onwards, in order. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(keep(b) ? b : 256 + n++);
  return out;
})();

/** Printable character → byte (the inverse of BYTE_TO_CHAR). */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/**
 * GPT-2's pre-tokenizer pattern: English contractions, runs of letters, of digits, of other
 * symbols (each with one optional leading space), and whitespace — a run of spaces before a word
 * leaves its last space to the word. The same pattern Hugging Face's ByteLevel pre-tokenizer uses.
 */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The words of `text` under GPT2_PATTERN (they join back to `text`). */
export function preTokenize(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}

/** `text` as UTF-8 bytes written in the byte-level alphabet. Lone surrogates (not valid UTF-8)
 *  are encoded as U+FFFD, as TextEncoder does. */
export function bytesToSymbols(text: string): string {
  const bytes = encoder.encode(text);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!];
  return s;
}

/** Byte-level symbols back to text; byte sequences that are not valid UTF-8 become U+FFFD. */
export function symbolsToText(symbols: string): string {
  const bytes = new Uint8Array(symbols.length);
  for (let i = 0; i < symbols.length; i++) {
    const b = CHAR_TO_BYTE.get(symbols[i]!);
    if (b === undefined) throw new RangeError(`symbolsToText: ${JSON.stringify(symbols[i])} is not a byte-level symbol`);
    bytes[i] = b;
  }
  return decoder.decode(bytes);
}
