// TypeDoc plugin for the API reference (typedoc.json): one program over every package's sources
// (faster than TypeDoc's per-package mode, and it needs no build), with each entry point's module
// named after its package ("@webgrad/nn", not "nn/src") and the package's README.md as its page.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Converter, MinimalSourceFile, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const mod of context.project.children ?? []) {
      if (!mod.kindOf(ReflectionKind.Module)) continue;
      const source = mod.sources?.[0]?.fullFileName;
      if (!source) continue;
      const pkgDir = dirname(dirname(source));                     // packages/<name>/src/index.ts
      const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
      mod.name = pkg.name;
      const readmePath = join(pkgDir, 'README.md');
      let readme;
      try { readme = readFileSync(readmePath, 'utf8'); } catch { continue; }
      mod.readme = context.converter.parseRawComment(new MinimalSourceFile(readme, readmePath), context.project.files).content;
    }
  });
}
