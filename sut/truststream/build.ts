import { buildTruststreamBundle } from './bundle.js';

// `npm run build:sut [outfile]`
const { file, bytes } = await buildTruststreamBundle(process.argv[2]);
process.stdout.write(`bundled the TrustStram service into ${file} (${Math.round(bytes / 1024)} KiB): node ${file} api\n`);
