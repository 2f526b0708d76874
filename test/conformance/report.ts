import type { CheckResult } from './runner.js';

const MARK = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;

export interface Summary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
}

export function summarize(results: readonly CheckResult[]): Summary {
  const count = (verdict: CheckResult['verdict']): number => results.filter((r) => r.verdict === verdict).length;
  return {
    total: results.length,
    passed: count('pass'),
    failed: count('fail'),
    skipped: count('skip'),
    durationMs: results.reduce((sum, r) => sum + r.durationMs, 0),
  };
}

/** One line per check, grouped, failures and skips followed by their reason. */
export function textReport(results: readonly CheckResult[], heading: string): string {
  const lines = [heading, ''];
  for (const group of groupsOf(results)) {
    lines.push(group);
    for (const r of results.filter((x) => x.group === group)) {
      lines.push(`  ${MARK[r.verdict]}  ${r.id}  ${r.title} (${r.durationMs} ms)`);
      if (r.verdict !== 'pass') {
        for (const line of r.message.split('\n').slice(0, 6)) lines.push(`        ${line}`);
      }
    }
    lines.push('');
  }
  const s = summarize(results);
  lines.push(`${s.total} checks: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (${(s.durationMs / 1000).toFixed(1)} s)`);
  return `${lines.join('\n')}\n`;
}

/** JUnit XML: one testsuite per group, one testcase per check. */
export function junitReport(results: readonly CheckResult[], name = 'porthole-conformance'): string {
  const s = summarize(results);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(name)}" tests="${s.total}" failures="${s.failed}" skipped="${s.skipped}" errors="0" time="${seconds(s.durationMs)}">`,
  ];
  for (const group of groupsOf(results)) {
    const members = results.filter((r) => r.group === group);
    const g = summarize(members);
    out.push(`  <testsuite name="${xml(group)}" tests="${g.total}" failures="${g.failed}" skipped="${g.skipped}" errors="0" time="${seconds(g.durationMs)}">`);
    for (const r of members) {
      const open = `    <testcase classname="conformance.${xml(group.replace(/\s+/g, '-'))}" name="${xml(`${r.id}: ${r.title}`)}" time="${seconds(r.durationMs)}"`;
      if (r.verdict === 'pass') {
        out.push(`${open}/>`);
      } else if (r.verdict === 'skip') {
        out.push(`${open}>`, `      <skipped message="${xml(r.message)}"/>`, '    </testcase>');
      } else {
        out.push(`${open}>`, `      <failure message="${xml(r.message.split('\n')[0] ?? '')}" type="CheckFailure">${xml(`${r.message}\nrules: ${r.rules.join(', ')}`)}</failure>`, '    </testcase>');
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

function groupsOf(results: readonly CheckResult[]): string[] {
  return [...new Set(results.map((r) => r.group))];
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

// XML 1.0 forbids most control characters even escaped; they are dropped.
function xml(text: string): string {
  return text
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
