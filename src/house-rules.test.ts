import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../test/support/source-files.js';

// The house rules of docs/architecture.md that prettier and eslint do not check, on the
// real source: lines within 120 columns (prettier leaves long strings and comments
// alone), and comments that a reader can follow: every `*.md` they name is in this
// repository, and none points at an issue number, which says when a line was written
// but not why it is there.

const repo = path.resolve(import.meta.dirname, '..');
const roots = ['src', 'test', 'bench', 'scripts', 'webui/src'];
const maxColumns = 120;
const sourceFile = /\.(ts|mjs|svelte)$/;

/** `file:line (N columns)` for each line over the limit; columns are characters, not bytes. */
function longLines(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => {
    const columns = [...line].length;
    return columns > maxColumns ? [`${file}:${i + 1} (${columns} columns)`] : [];
  });
}

interface Comment {
  line: number;
  text: string;
}

/** Every comment of a TypeScript or JavaScript text, found by the parser (so `//` in a string is not one). */
function scriptComments(text: string, firstLine = 1): Comment[] {
  const sf = ts.createSourceFile('x.ts', text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const seen = new Map<number, Comment>();
  const collect = (ranges: ts.CommentRange[] | undefined) => {
    for (const r of ranges ?? []) {
      if (seen.has(r.pos)) continue;
      const line = sf.getLineAndCharacterOfPosition(r.pos).line + firstLine;
      seen.set(r.pos, { line, text: text.slice(r.pos, r.end) });
    }
  };
  const visit = (node: ts.Node) => {
    collect(ts.getLeadingCommentRanges(text, node.getFullStart()));
    collect(ts.getTrailingCommentRanges(text, node.getEnd()));
    for (const child of node.getChildren(sf)) visit(child);
  };
  visit(sf);
  return [...seen.values()];
}

/** Comments of a Svelte component: those in its `<script>` blocks and the markup's `<!-- -->`. */
function svelteComments(text: string): Comment[] {
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  const out: Comment[] = [];
  for (const m of text.matchAll(/(<script\b[^>]*>)([\s\S]*?)<\/script>/g)) {
    const start = (m.index ?? 0) + (m[1] as string).length;
    out.push(...scriptComments(m[2] as string, lineAt(start)));
  }
  for (const m of text.matchAll(/<!--([\s\S]*?)-->/g)) out.push({ line: lineAt(m.index ?? 0), text: m[0] });
  return out;
}

function commentsOf(file: string, text: string): Comment[] {
  return file.endsWith('.svelte') ? svelteComments(text) : scriptComments(text);
}

/** A `*.md` a comment names exists as a repo-relative path, under docs/, or beside the file. */
function mdExists(file: string, name: string): boolean {
  return [path.join(repo, name), path.join(repo, 'docs', name), path.join(path.dirname(file), name)].some((p) =>
    existsSync(p),
  );
}

/** `file:line: why` for each comment naming a missing `*.md` or citing an issue number. */
function commentProblems(file: string, text: string, exists = mdExists): string[] {
  const where = path.relative(repo, file);
  return commentsOf(file, text).flatMap((c) => {
    const problems: string[] = [];
    const prose = c.text.replace(/\bhttps?:\/\/\S+/g, '');
    for (const m of prose.matchAll(/[\w./-]*\w\.md\b/g)) {
      if (!exists(file, m[0])) problems.push(`${where}:${c.line}: names ${m[0]}, which is not in this repository`);
    }
    const issue = /\bissues?\s+#?\d+/i.exec(prose);
    if (issue) problems.push(`${where}:${c.line}: cites "${issue[0]}"; say the reason instead`);
    return problems;
  });
}

const files = roots.flatMap((root) => sourceFiles(path.join(repo, root), sourceFile));

describe('house rules', () => {
  it('the checks catch what they are for', () => {
    const planted = [
      `const ok = 1; // ${'x'.repeat(maxColumns)}`,
      '// see nothere.md for the design',
      '/** Fixed in issue 13: the cap. */',
      "const url = 'http://x/design.md // issue 4';",
      '// docs/architecture.md and https://example.org/a/README.md are fine',
    ].join('\n');
    const file = path.join(repo, 'src', 'planted.ts');
    expect(longLines('src/planted.ts', planted)).toEqual([`src/planted.ts:1 (${maxColumns + 17} columns)`]);
    expect(commentProblems(file, planted)).toEqual([
      'src/planted.ts:2: names nothere.md, which is not in this repository',
      'src/planted.ts:3: cites "issue 13"; say the reason instead',
    ]);
    const svelte = '<script lang="ts">\n  // gone.md\n</script>\n<p>a</p>\n<!-- issue 2 -->\n';
    expect(commentProblems(path.join(repo, 'webui', 'src', 'X.svelte'), svelte)).toEqual([
      'webui/src/X.svelte:2: names gone.md, which is not in this repository',
      'webui/src/X.svelte:5: cites "issue 2"; say the reason instead',
    ]);
  });

  it('finds the sources it checks', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.some((f) => f.endsWith('.svelte'))).toBe(true);
  });

  it(`keeps every source line within ${maxColumns} columns`, () => {
    const long = files.flatMap((f) => longLines(path.relative(repo, f), readFileSync(f, 'utf8')));
    expect(long).toEqual([]);
  });

  it('cites only documents in this repository, and no issue numbers, in comments', () => {
    const problems = files.flatMap((f) => commentProblems(f, readFileSync(f, 'utf8')));
    expect(problems).toEqual([]);
  });
});
