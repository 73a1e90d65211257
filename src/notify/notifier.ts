import createDebug from 'debug';
import { sleep, type Clock } from '../engine/clock.js';
import type { JournalRecorder } from '../engine/journal-recorder.js';
import type { NotificationRecord, Stamp } from '../engine/journal-types.js';
import type { NotificationsSettings } from '../scenario/notifications-schema.js';
import type { NotificationChannel } from './channel.js';
import { buildChannel } from './channels.js';
import type { NotificationMessage } from './message.js';
import { defaultIncidentId } from './templates.js';
import { updateMessage } from './drill-messages.js';
import { UpdateSchedule } from './update-schedule.js';

const debug = createDebug('drill:notify');

export interface NotifierOptions {
  settings: NotificationsSettings | undefined;
  clock: Clock;
  recorder: JournalRecorder;
  /** The drill's abort (Ctrl-C, timeout): an attempt in flight stops at once. */
  signal: AbortSignal;
  /** The scenario file: a channel's `ca` is relative to it. */
  scenarioFile?: string;
  /** Default: the scenario's channels (a test passes its own). */
  channels?: NotificationChannel[];
}

/**
 * Sends the runbook's messages to every channel beside the drill: `send` starts the deliveries and
 * returns; nothing in the runbook waits for them, so a channel that is down never delays a step or
 * moves the restored instant. Each message and channel is one journal record, updated as its
 * attempts end (bounded: `attempts`, `retryDelay` doubled each time), on the drill's clock.
 */
export class Notifier {
  readonly channels: readonly NotificationChannel[];
  private incident: string | undefined;
  private readonly pending = new Set<Promise<void>>();
  private readonly stopper = new AbortController();
  private readonly signal: AbortSignal;
  private updates: UpdateSchedule | undefined;
  private updatesStopped = false;

  constructor(private readonly options: NotifierOptions) {
    this.channels = options.channels ?? (options.settings?.channels ?? []).map((spec) => buildChannel(spec, options.scenarioFile));
    this.incident = options.settings?.incidentId;
    this.signal = AbortSignal.any([options.signal, this.stopper.signal]);
  }

  /** Whether the scenario configured any channel. */
  get enabled(): boolean {
    return this.channels.length > 0;
  }

  /** Whether the scenario asked for the automatic message on this trigger. */
  sendsOn(trigger: NotificationsSettings['on'][number]): boolean {
    return this.enabled && (this.options.settings?.on ?? []).includes(trigger);
  }

  /**
   * The incident declared by activate-incident-response names the incident from then on (the
   * Resolution Notice says the same id), unless the scenario set one or a message already went out.
   */
  adoptIncidentId(id: string): string {
    return (this.incident ??= id);
  }

  /** The incident's id: the scenario's, else made from the first message's time (the runbook's date format). */
  incidentId(at: Stamp): string {
    return (this.incident ??= defaultIncidentId(at.wall));
  }

  /**
   * Builds the message at this instant and starts delivering it on every channel; returns at once
   * with the records (which fill in as attempts end).
   */
  send(trigger: NotificationRecord['trigger'], build: (now: Stamp) => NotificationMessage): NotificationRecord[] {
    const now = this.options.clock.stamp();
    // What leaves the machine is what the journal keeps: a secret of the run (a generated password,
    // a leaked token the message quotes) is redacted before any channel sees the message.
    const message = this.redacted(build(now));
    if (message.template === 'initial-alert') this.openIncident();
    return this.channels.map((channel) => {
      const record: NotificationRecord = {
        template: message.template,
        trigger,
        channel: channel.name,
        channelType: channel.type,
        destination: channel.destination,
        incidentId: message.incidentId,
        subject: message.subject,
        fields: message.fields,
        t: now.t,
        wall: now.wall,
        attempts: [],
        delivered: false,
      };
      (this.options.recorder.journal.notifications ??= []).push(record);
      const delivery = this.deliver(channel, message, record).catch((error: unknown) => {
        debug('delivery to %s stopped: %s', channel.name, (error as Error)?.message);
      });
      this.pending.add(delivery);
      void delivery.finally(() => this.pending.delete(delivery));
      return record;
    });
  }

  /** What an Initial Alert promises: updateEvery when the updates are on, else the template's 15 minutes. */
  get promisedEvery(): number | undefined {
    return this.sendsOn('update') ? this.updateEvery : undefined;
  }

  /** How often the promised updates go out (notifications.updateEvery). */
  get updateEvery(): number {
    return this.options.settings?.updateEvery ?? 15 * 60_000;
  }

  /**
   * The first Initial Alert opens the incident: with on: [update] the updates start, every
   * updateEvery from now, until stopUpdates (the Resolution Notice) or teardown.
   */
  private openIncident(): void {
    if (this.updates || this.updatesStopped || !this.sendsOn('update')) return;
    const journal = this.options.recorder.journal;
    this.updates = new UpdateSchedule(this.updateEvery, this.options.clock, this.signal, (n) => {
      this.send('update', (now) => updateMessage(journal, { incidentId: this.incidentId(now), number: n, every: this.updateEvery }, now));
    });
    journal.notificationUpdates = this.updates.record;
  }

  /** The incident is resolved (or the drill ends): no update after this. */
  async stopUpdates(): Promise<void> {
    this.updatesStopped = true;
    await this.updates?.stop();
  }

  /** The message with every secret the run knows (at this instant) replaced, in every part a channel sends. */
  private redacted(message: NotificationMessage): NotificationMessage {
    const secrets = this.options.recorder.secrets;
    return {
      ...message,
      subject: secrets.redact(message.subject),
      body: secrets.redact(message.body),
      fields: secrets.redactData(message.fields),
      incidentId: secrets.redact(message.incidentId),
      runId: secrets.redact(message.runId),
      scenario: secrets.redact(message.scenario),
    };
  }

  /** Waits for every delivery started so far (each is bounded by its attempts and timeouts). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Teardown: stops what is still trying and waits for it to let go. */
  async stop(): Promise<void> {
    await this.stopUpdates();
    this.stopper.abort(new Error('the drill is tearing down'));
    await this.settled();
  }

  private async deliver(channel: NotificationChannel, message: NotificationMessage, record: NotificationRecord): Promise<void> {
    const { clock, recorder, settings } = this.options;
    const attempts = settings?.attempts ?? 1;
    let delay = settings?.retryDelay ?? 1000;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        await sleep(delay, this.signal);
        delay *= 2;
      }
      const t = clock.now();
      const result = await channel.deliver(message, this.signal);
      const tEnd = clock.now();
      record.attempts.push({
        t,
        tEnd,
        outcome: result.outcome,
        ...(result.status !== undefined ? { status: result.status } : {}),
        ...(result.error !== undefined ? { error: recorder.secrets.redact(result.error) } : {}),
      });
      if (result.outcome === 'accepted') {
        record.delivered = true;
        record.tDelivered = tEnd;
        record.latencyMs = tEnd - record.t;
        recorder.event('notification-delivered', `${message.subject} delivered to ${channel.name} (attempt ${attempt}, ${Math.round(tEnd - record.t)}ms after it was sent)`, {
          channel: channel.name,
          template: message.template,
          attempt,
        });
        return;
      }
      debug('%s attempt %d to %s: %s %s', message.template, attempt, channel.name, result.outcome, result.error ?? '');
    }
    const last = record.attempts.at(-1);
    recorder.event('notification-failed', `${message.subject} NOT delivered to ${channel.name} after ${attempts} attempt(s): ${last?.error ?? last?.outcome ?? 'no attempt'}`, {
      channel: channel.name,
      template: message.template,
      attempts,
    });
  }
}
