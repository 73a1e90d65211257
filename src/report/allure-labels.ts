import * as allure from 'allure-js-commons';
import type { Scenario, Severity } from '../scenario/schema.js';

/** Runbook P0–P3 onto Allure's severities. */
const SEVERITY: Record<Severity, allure.Severity> = {
  P0: allure.Severity.BLOCKER,
  P1: allure.Severity.CRITICAL,
  P2: allure.Severity.NORMAL,
  P3: allure.Severity.MINOR,
};

export async function labelDrill(scenario: Scenario): Promise<void> {
  await allure.epic('Disaster recovery drills');
  await allure.feature(scenario.runbook);
  await allure.story(scenario.title);
  await allure.severity(SEVERITY[scenario.severity]);
  for (const tag of scenario.tags) await allure.tag(tag);
  if (scenario.description) await allure.description(scenario.description);
}
