// mailText: the Subject and readable body of raw mails — quoted-printable and base64 bodies,
// multipart messages (text/plain preferred over text/html), HTML stripped, encoded-word subjects;
// and the SpamAssassin corpus listing and its seeded split.
import { describe, expect, it } from 'vitest';
import { mailText } from './mail_text.js';
import { readMailText, sampleMails, spamAssassinEntries, splitCorpus } from './spam_assassin.js';

describe('mailText', () => {
  it('keeps the Subject and the body, drops the other headers, collapses whitespace', () => {
    const raw = 'From: a@b.c\nReceived: from x\n  by y\nSubject: Hello\n  there\n\nLine one.\n\n   Line   two.\n';
    expect(mailText(raw)).toBe('Hello there\nLine one. Line two.');
    expect(mailText(raw, { maxChars: 8 })).toBe('Hello th');
  });

  it('decodes quoted-printable and base64 bodies and RFC 2047 subjects', () => {
    const qp = 'Subject: =?iso-8859-1?Q?Caf=E9_offer?=\nContent-Transfer-Encoding: quoted-printable\n\nPrix =3D 5=\n euros, caf=C3=A9';
    expect(mailText(qp)).toBe('Café offer\nPrix = 5 euros, café');
    const b64 = `Subject: =?utf-8?B?${Buffer.from('Ünïcode', 'utf8').toString('base64')}?=\nContent-Transfer-Encoding: base64\n\n${btoa('plain text body')}`;
    expect(mailText(b64)).toBe('Ünïcode\nplain text body');
  });

  it('strips HTML and prefers the text/plain part of a multipart message', () => {
    const html = 'Subject: Sale\nContent-Type: text/html\n\n<html><style>p{color:red}</style><body><p>Buy&nbsp;<b>now</b> &amp; save</p><!-- x --></body></html>';
    expect(mailText(html)).toBe('Sale\nBuy now & save');
    const multi = [
      'Subject: Both', 'Content-Type: multipart/alternative; boundary="XX"', '', 'preamble', '--XX', 'Content-Type: text/html', '',
      '<p>the html part</p>', '--XX', 'Content-Type: text/plain', '', 'the plain part', '--XX--', '',
    ].join('\n');
    expect(mailText(multi)).toBe('Both\nthe plain part');
    const htmlOnly = multi.replace('Content-Type: text/plain\n\nthe plain part', 'Content-Type: image/png\n\nAAAA');
    expect(mailText(htmlOnly)).toBe('Both\nthe html part');
  });
});

describe('the SpamAssassin corpus', () => {
  it('lists 6,046 mails in five folders and splits them 80/10/10 by seed', () => {
    const all = spamAssassinEntries();
    expect(all).toHaveLength(6046);
    const groups = new Map<string, number>();
    for (const e of all) groups.set(e.group, (groups.get(e.group) ?? 0) + 1);
    expect(Object.fromEntries(groups)).toEqual({ 'easy-ham-1': 2500, 'easy-ham-2': 1400, 'hard-ham-1': 250, 'spam-1': 500, 'spam-2': 1396 });
    expect(all.every((e) => e.label === (e.group.startsWith('spam') ? 1 : 0))).toBe(true);
    const s = splitCorpus(0);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([4837, 605, 604]);
    expect(new Set([...s.train, ...s.val, ...s.test].map((e) => e.index)).size).toBe(6046);
    expect(splitCorpus(0).test.map((e) => e.index)).toEqual(s.test.map((e) => e.index));
    expect(splitCorpus(1).test.map((e) => e.index)).not.toEqual(s.test.map((e) => e.index));
    const some = sampleMails(s.train, 3, 9);
    expect(some).toHaveLength(3);
    expect(some).toEqual(sampleMails(s.train, 3, 9));
    for (const e of some) expect(readMailText(e).length).toBeGreaterThan(0);
  });
});
