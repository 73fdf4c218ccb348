// TypeDoc plugin for the API reference (typedoc.json): one program over every package's sources
// (faster than TypeDoc's per-package mode, and it needs no build), with each entry point's module
// named after its package ("@webgrad/nn", not "nn/src") and the package's README.md as its page.
// A Tensor method installed from an op file's `*_METHODS` table (`{ sum, var: variance }`) takes
// the summary of the function it names, so each op is documented once, on its function.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { Comment, Converter, MinimalSourceFile, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  const methodFunctions = new Map();                           // Tensor method reflection → function name
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, refl) => {
    if (!refl.kindOf(ReflectionKind.Property) || refl.parent?.name !== 'Tensor') return;
    const name = methodFunctionName(context, refl);
    if (name) methodFunctions.set(refl, name);
  });
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
    for (const [prop, name] of methodFunctions) {
      if (prop.comment) continue;
      const fn = prop.parent?.parent?.getChildByName?.([name]);
      const summary = (fn?.comment ?? fn?.signatures?.find((sig) => sig.comment)?.comment)?.summary;
      if (summary?.length) prop.comment = new Comment(Comment.cloneDisplayParts(summary));
    }
  });
}

/** The name of the function a `*_METHODS` table entry names (shorthand `sum` or `var: variance`). */
function methodFunctionName(context, prop) {
  const decl = context.getSymbolFromReflection(prop)?.declarations?.[0];
  const checker = context.checker;
  let target;
  if (decl && ts.isShorthandPropertyAssignment(decl)) target = checker.getShorthandAssignmentValueSymbol(decl);
  else if (decl && ts.isPropertyAssignment(decl) && ts.isIdentifier(decl.initializer)) target = checker.getSymbolAtLocation(decl.initializer);
  if (target && target.flags & ts.SymbolFlags.Alias) target = checker.getAliasedSymbol(target);
  return target?.name;
}
