// A built-in training corpus, so examples run offline on a fresh clone: deterministic rhyming
// verse in the shape of a play script (a speaker's name in capitals, then a stanza of couplets).
// Lines are built from templates and word lists, and each couplet ends on two words of one rhyme
// family — structure a small character-level model can learn (spelling, names, metre-like line
// lengths, punctuation, and rhyme) while its loss keeps room to fall.
import { seededRandom } from '@webgrad/core';

const SPEAKERS = [
  'KING ROLAND', 'QUEEN MARGARET', 'LADY ELINOR', 'SIR TOBIAS', 'THE FOOL', 'FRIAR LAWRENCE',
  'DUKE ORSINO', 'HELENA', 'SEBASTIAN', 'FIRST WATCHMAN', 'CORDELIA', 'OLD SHEPHERD',
];

const ADJ = [
  'gentle', 'bitter', 'silent', 'golden', 'weary', 'noble', 'hollow', 'tender', 'restless', 'ancient',
  'cruel', 'quiet', 'bright', 'faithless', 'merry', 'solemn', 'fragile', 'wicked', 'honest', 'pale',
];
const NOUN = [
  'heart', 'crown', 'sword', 'river', 'moon', 'garden', 'tower', 'shadow', 'letter', 'father',
  'mother', 'kingdom', 'rose', 'storm', 'candle', 'mirror', 'soldier', 'lover', 'prayer', 'wind',
];
const VERB = [
  'loves', 'fears', 'keeps', 'breaks', 'seeks', 'wakes', 'hides', 'burns', 'holds', 'follows',
  'remembers', 'forgets', 'betrays', 'carries', 'guards',
];
const VERB_BASE = [
  'love', 'fear', 'keep', 'break', 'seek', 'wake', 'hide', 'burn', 'hold', 'follow',
  'remember', 'forget', 'betray', 'carry', 'guard',
];
const PREP = ['upon', 'beneath', 'beyond', 'within', 'across', 'before', 'against', 'beside'];
const DET = ['the', 'my', 'thy', 'our', 'a', 'this', 'that'];

/** Rhyme families: the last word of both lines of a couplet comes from one family. */
const RHYMES: readonly (readonly string[])[] = [
  ['night', 'light', 'sight', 'flight', 'height', 'knight', 'white', 'fight'],
  ['day', 'way', 'play', 'bay', 'grey', 'clay', 'May', 'stay'],
  ['sea', 'tree', 'key', 'plea', 'knee', 'decree'],
  ['stone', 'throne', 'bone', 'alone', 'own', 'moan'],
  ['fire', 'desire', 'choir', 'liar', 'spire', 'lyre'],
  ['rain', 'pain', 'chain', 'plain', 'vain', 'slain', 'again'],
  ['sky', 'eye', 'lie', 'cry', 'sigh', 'die'],
  ['door', 'floor', 'shore', 'war', 'more', 'oar'],
  ['breath', 'death', 'Macbeth'],
  ['song', 'throng', 'wrong', 'long', 'strong'],
  ['gold', 'cold', 'bold', 'old', 'told', 'hold'],
  ['name', 'flame', 'shame', 'came', 'same', 'blame'],
];

type Pick = <T>(xs: readonly T[]) => T;

/** Line templates; each returns a line without its final rhyme word. */
const TEMPLATES: readonly ((p: Pick) => string)[] = [
  (p) => `The ${p(ADJ)} ${p(NOUN)} ${p(VERB)} ${p(PREP)} the`,
  (p) => `And ${p(DET)} ${p(NOUN)} is ${p(ADJ)} as the`,
  (p) => `I ${p(VERB_BASE)} the ${p(ADJ)} ${p(NOUN)} ${p(PREP)} the`,
  (p) => `O ${p(ADJ)} ${p(NOUN)}, thou ${p(VERB)} my`,
  (p) => `What ${p(NOUN)} ${p(VERB)} ${p(PREP)} ${p(DET)} ${p(ADJ)}`,
  (p) => `Let ${p(DET)} ${p(NOUN)} ${p(VERB_BASE)} the ${p(ADJ)}`,
  (p) => `Shall I ${p(VERB_BASE)} ${p(DET)} ${p(NOUN)} ${p(PREP)} the`,
  (p) => `No ${p(NOUN)} so ${p(ADJ)} ${p(VERB)} ${p(DET)}`,
];

export interface CorpusOptions {
  /** Approximate length in characters (default 300 000). */
  chars?: number;
  seed?: number;
}

/** The corpus text: speeches of 1–3 rhyming couplets separated by blank lines. */
export function generateCorpus(opts: CorpusOptions = {}): string {
  const target = opts.chars ?? 300_000;
  const rand = seededRandom(opts.seed ?? 1337);
  const pick: Pick = (xs) => xs[Math.floor(rand() * xs.length)]!;
  const parts: string[] = [];
  let length = 0;
  while (length < target) {
    const lines = [`${pick(SPEAKERS)}:`];
    const couplets = 1 + Math.floor(rand() * 3);
    for (let c = 0; c < couplets; c++) {
      const family = pick(RHYMES);
      const first = pick(family);
      let second = pick(family);
      while (second === first) second = pick(family);
      lines.push(`${pick(TEMPLATES)(pick)} ${first},`);
      lines.push(`${pick(TEMPLATES)(pick)} ${second}${c === couplets - 1 ? pick(['.', '!', '.', '?']) : ';'}`);
    }
    const speech = `${lines.join('\n')}\n\n`;
    parts.push(speech);
    length += speech.length;
  }
  return parts.join('');
}
