import { InputError } from '../engine/errors.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-markdown.js';
import { renderText } from './render-text.js';
import type { CoverageReport } from './types.js';

export const COVERAGE_FORMATS = ['text', 'md', 'json', 'html'] as const;
export type CoverageFormat = (typeof COVERAGE_FORMATS)[number];

const RENDERERS: { [F in CoverageFormat]: (report: CoverageReport) => string } = {
  text: renderText,
  md: renderMarkdown,
  json: (report) => `${JSON.stringify(report, null, 2)}\n`,
  html: renderHtml,
};

export function coverageFormat(text: string): CoverageFormat {
  const format = COVERAGE_FORMATS.find((f) => f === text);
  if (!format) throw new InputError('FORMAT_INVALID', `--format "${text}": give one of ${COVERAGE_FORMATS.join(', ')}`);
  return format;
}

export function renderCoverage(report: CoverageReport, format: CoverageFormat): string {
  return RENDERERS[format](report);
}
