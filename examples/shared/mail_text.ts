// The readable text of a raw RFC 822 mail: its Subject line and the body a person would read.
// Headers other than Subject are dropped (routing headers name the mailing lists and servers a
// mail came through, which would let a classifier sort mails without reading them). The body is
// decoded from quoted-printable or base64 as its Content-Transfer-Encoding says; a multipart body
// keeps its text/plain parts (text/html when it has none); HTML loses its tags, style and script
// blocks and has its common entities decoded; whitespace is collapsed to single spaces.

export interface MailTextOptions {
  /** Cut the result to this many characters (default: no cut). */
  maxChars?: number;
}

interface Part { headers: Map<string, string>; body: string }

/** Header block → lower-case name → value (folded lines joined). */
function parseHeaders(block: string): Map<string, string> {
  const out = new Map<string, string>();
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const k = line.indexOf(':');
    if (k <= 0) continue;
    const name = line.slice(0, k).trim().toLowerCase();
    if (!out.has(name)) out.set(name, line.slice(k + 1).trim());
  }
  return out;
}

/** Headers and body of a message or MIME part (split at the first blank line). */
function splitPart(raw: string): Part {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return { headers: parseHeaders(raw), body: '' };
  return { headers: parseHeaders(raw.slice(0, m.index)), body: raw.slice(m.index + m[0].length) };
}

/** Bytes (each char code 0–255) as text: UTF-8 when they are valid UTF-8, else Latin-1 as they are. */
function bytesToText(binary: string): string {
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0) & 0xff);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return binary;
  }
}

function decodeQuotedPrintable(s: string): string {
  const binary = s.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return bytesToText(binary);
}

function decodeBase64(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9+/=]/g, '');
  try {
    return bytesToText(atob(clean.slice(0, clean.length - (clean.length % 4))));
  } catch {
    return '';
  }
}

/** RFC 2047 encoded words in a header (=?charset?Q|B?text?=). */
function decodeHeaderWords(s: string): string {
  return s.replace(/=\?[^?]+\?([QqBb])\?([^?]*)\?=/g, (_, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? decodeBase64(text) : decodeQuotedPrintable(text.replace(/_/g, ' ')));
}

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®' };

function htmlToText(html: string): string {
  return html
    .replace(/<(style|script)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(br|p|div|tr|li|h\d)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
}

/** The text of a part: decoded, multipart parts chosen, HTML stripped. */
function partText(part: Part, depth = 0): string {
  const type = (part.headers.get('content-type') ?? 'text/plain').toLowerCase();
  if (type.startsWith('multipart/') && depth < 5) {
    const boundary = /boundary="?([^";]+)"?/i.exec(part.headers.get('content-type') ?? '')?.[1];
    if (!boundary) return part.body;
    const pieces = part.body.split(`--${boundary}`).slice(1).filter((p) => !p.startsWith('--')).map((p) => splitPart(p.replace(/^\r?\n/, '')));
    const plain = pieces.filter((p) => (p.headers.get('content-type') ?? 'text/plain').toLowerCase().startsWith('text/plain'));
    const chosen = plain.length > 0 ? plain : pieces.filter((p) => /^(text\/html|multipart\/)/i.test(p.headers.get('content-type') ?? ''));
    return chosen.map((p) => partText(p, depth + 1)).join('\n');
  }
  if (!type.startsWith('text/')) return '';
  const cte = (part.headers.get('content-transfer-encoding') ?? '').toLowerCase();
  const body = cte.includes('quoted-printable') ? decodeQuotedPrintable(part.body) : cte.includes('base64') ? decodeBase64(part.body) : part.body;
  return type.startsWith('text/html') || /<html|<body/i.test(body.slice(0, 2000)) ? htmlToText(body) : body;
}

/** "Subject\nbody" of a raw mail, whitespace collapsed. */
export function mailText(raw: string, opts: MailTextOptions = {}): string {
  const msg = splitPart(raw);
  const subject = decodeHeaderWords(msg.headers.get('subject') ?? '').replace(/\s+/g, ' ').trim();
  const body = partText(msg).replace(/\s+/g, ' ').trim();
  const text = `${subject}\n${body}`;
  return opts.maxChars !== undefined && text.length > opts.maxChars ? text.slice(0, opts.maxChars) : text;
}
