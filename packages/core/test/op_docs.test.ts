// docs/OPS.md is generated from the op table; this test fails when it is stale.
// Regenerate with: WEBGRAD_WRITE_DOCS=1 pnpm vitest run packages/core/test/op_docs.test.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { opTableMarkdown } from '@webgrad/core';

const path = fileURLToPath(new URL('../../../docs/OPS.md', import.meta.url));
const header = '# Ops\n\nGenerated from the op table (`OP_TABLE` in packages/core/src/ops). Each op is defined once: forward, backward, and the inputs of its float64 finite-difference check.\n\n';

it('docs/OPS.md matches the op table', () => {
  const want = header + opTableMarkdown();
  if (process.env.WEBGRAD_WRITE_DOCS === '1') writeFileSync(path, want);
  expect(readFileSync(path, 'utf8')).toBe(want);
  expect(want).toContain('| `matmul` | yes |');
});
