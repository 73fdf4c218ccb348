// The op reference table, generated from OP_TABLE so the docs cannot drift from the definitions.
import { OP_TABLE } from './define.js';

/** A Markdown table of every defined op: whether it is differentiable and what its gradient check covers. */
export function opTableMarkdown(): string {
  const rows = [...OP_TABLE.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((d) => {
      const grad = d.backward ? 'yes' : '—';
      const checks = (d.gradcheck ?? []).map((s) => (s.label ? `${s.label}: ` : '') + s.inputs.map((i) => `[${i.shape.join(', ')}]${i.int ? ' int' : i.domain && i.domain !== 'any' ? ` ${i.domain}` : ''}`).join(' × ')).join('; ');
      return `| \`${d.name}\` | ${grad} | ${checks || '—'} |`;
    });
  return ['| op | backward | float64 gradient check inputs |', '| --- | --- | --- |', ...rows, ''].join('\n');
}
