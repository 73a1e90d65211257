import { describe, expect, it } from 'vitest';
import { choosePostgresProvider } from '../../src/targets/postgres/choose-provider.js';
import { dockerEngineAnswers } from '../../src/targets/docker-available.js';

// Docker's answer is the one thing these machines cannot produce for real, so it is injected.
const docker = (answers: boolean) => async () => answers;

describe('PostgreSQL provider choice', () => {
  it('auto picks testcontainers when a Docker engine answers, native otherwise', async () => {
    expect((await choosePostgresProvider('auto', docker(true))).name).toBe('testcontainers');
    expect((await choosePostgresProvider('auto', docker(false))).name).toBe('native');
  });
  it('an explicit testcontainers without Docker is an environment failure that says what to do', async () => {
    await expect(choosePostgresProvider('testcontainers', docker(false))).rejects.toMatchObject({
      code: 'DOCKER_UNAVAILABLE',
      kind: 'environment',
      message: expect.stringMatching(/provider: native/),
    });
  });
  it('auto with a url means that external server', async () => {
    expect((await choosePostgresProvider('auto', docker(true), true)).name).toBe('external');
  });
  it('explicit native and external are taken as written', async () => {
    expect((await choosePostgresProvider('native', docker(true))).name).toBe('native');
    expect((await choosePostgresProvider('external', docker(false))).name).toBe('external');
  });
  it('a DOCKER_HOST nobody listens on does not answer', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    try {
      expect(await dockerEngineAnswers()).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
