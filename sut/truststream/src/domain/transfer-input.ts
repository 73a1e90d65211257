export interface TransferInput {
  fromAccount: number;
  toAccount: number;
  /** Decimal string with at most two places, as PostgreSQL numeric(14,2) takes it. */
  amount: string;
  reference?: string;
}

const AMOUNT = /^\d{1,12}(\.\d{1,2})?$/;
const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/** The body of POST /api/transfers, checked; a list of problems (field: what is wrong) otherwise. */
export function parseTransferInput(body: unknown): { ok: true; input: TransferInput } | { ok: false; problems: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, problems: ['body: expected a JSON object {fromAccount, toAccount, amount, reference?}'] };
  }
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  const account = (key: string): number => {
    const v = b[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) problems.push(`${key}: expected a positive integer account id`);
    return v as number;
  };
  const fromAccount = account('fromAccount');
  const toAccount = account('toAccount');
  const rawAmount = typeof b.amount === 'number' ? String(b.amount) : b.amount;
  if (typeof rawAmount !== 'string' || !AMOUNT.test(rawAmount) || Number(rawAmount) <= 0) {
    problems.push('amount: expected a positive amount with at most two decimal places, e.g. "12.50"');
  }
  if (b.reference !== undefined && (typeof b.reference !== 'string' || !REFERENCE.test(b.reference))) {
    problems.push('reference: expected 1-100 characters of letters, digits and . _ : - (starting with a letter or digit)');
  }
  if (problems.length === 0 && fromAccount === toAccount) problems.push('toAccount: must differ from fromAccount');
  const unknown = Object.keys(b).filter((k) => !['fromAccount', 'toAccount', 'amount', 'reference'].includes(k));
  if (unknown.length > 0) problems.push(`unknown field(s): ${unknown.join(', ')}`);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    input: { fromAccount, toAccount, amount: rawAmount as string, ...(b.reference === undefined ? {} : { reference: b.reference as string }) },
  };
}
