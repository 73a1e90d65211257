import { XMLParser } from 'fast-xml-parser';

/** One drill as `drill run --junit` writes it: its `<testsuite>` (counts, file, properties) and its one `<testcase>`. */
export interface JunitDrill {
  suite: { name: string; tests: string; failures: string; errors: string; skipped: string; time: string; file: string };
  cases: JunitCase[];
  /** The testcase (each drill's suite holds exactly one: checked by the tests). */
  name: string;
  classname: string;
  time: string;
  failure?: Array<{ message: string; type: string; '#text': string }>;
  error?: Array<{ message: string; type: string; '#text': string }>;
  skipped?: Array<{ message: string }>;
  'system-out'?: string;
  properties: Record<string, string>;
}
type JunitCase = Omit<JunitDrill, 'suite' | 'cases' | 'properties'>;

export interface JunitDoc {
  totals: Record<string, string>;
  drills: JunitDrill[];
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name, _path, _leaf, isAttribute) => !isAttribute && ['testcase', 'property', 'failure', 'error', 'skipped', 'testsuite'].includes(name) });

export function readJunit(xml: string): JunitDoc {
  interface RawSuite extends Record<string, unknown> {
    testcase?: JunitCase[];
    properties?: { property?: Array<{ name: string; value: string }> };
  }
  const doc = parser.parse(xml) as { testsuites: Record<string, string> & { testsuite?: RawSuite[] } };
  const { testsuite = [], ...totals } = doc.testsuites;
  const drills = testsuite.map((s) => {
    const { testcase = [], properties, ...attrs } = s;
    const props = Object.fromEntries((properties?.property ?? []).map((p) => [p.name, p.value]));
    return { ...testcase[0]!, suite: attrs as JunitDrill['suite'], cases: testcase, properties: props };
  });
  return { totals: totals as Record<string, string>, drills };
}
