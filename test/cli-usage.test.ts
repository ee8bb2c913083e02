import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, LAB_CLI, ROOT, tempDir, visor, visorLab } from './fixtures.js';

// The command line itself, before any index or model is touched: fast, no images needed.
describe('visor command line', () => {
  it("lists the global --db and --json in every command's help", () => {
    for (const cmd of [['stats'], ['search'], ['models', 'verify']]) {
      const help = visor([...cmd, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/--db <dir>/);
      expect(help.stdout).toMatch(/--json/);
    }
  });

  it('exits 2 on a wrong command line (as on any wrong input), 0 on help and --version', () => {
    const typo = visor(['serch', 'dog']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown command 'serch'[\s\S]*Did you mean search/);
    expect(visor(['index']).code).toBe(2); // missing <sources>
    const badK = visor(['search', 'dog', '-k', '0', '--json']);
    expect(badK.code).toBe(2);
    expect(JSON.parse(badK.stdout)).toEqual({ error: { code: 'USAGE', message: expect.stringMatching(/-k must be a positive integer/) } });
    expect(visor(['search', '--help']).code).toBe(0);
    expect(visor(['help', 'search']).code).toBe(0);
    const version = visor(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('leaves the built-in benchmarks and training to the lab CLI, and says so', () => {
    const help = visor(['--help']);
    expect(help.stdout).toMatch(/^\s+search\b/m);
    expect(help.stdout).not.toMatch(/^\s+train\b/m);
    // The product's eval measures the user's own catalogue; the benchmarks are the lab's.
    expect(visor(['eval', '--help']).stdout).toMatch(/^\s+labels\b/m);
    const bench = visor(['eval', 'cifar10']);
    expect(bench.code).toBe(2);
    expect(bench.stderr).toMatch(/unknown command 'cifar10'[\s\S]*visor-lab eval cifar10/);
    const train = visor(['train', 'joint']);
    expect(train.code).toBe(2);
    expect(train.stderr).toMatch(/unknown command 'train'[\s\S]*visor-lab train/);
    const lab = visorLab(['--help']);
    expect(lab.code).toBe(0);
    expect(lab.stdout).toMatch(/^Usage: visor-lab /m);
    expect(lab.stdout).toMatch(/^\s+eval\b/m);
    expect(lab.stdout).toMatch(/^\s+train\b/m);
    for (const cmd of [['eval'], ['train', 'joint'], ['train', 'compose'], ['train', 'classify']]) {
      const h = visorLab([...cmd, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/--db <dir>/);
      expect(h.stdout).toMatch(/--json/);
    }
    expect(visorLab(['--version']).stdout).toBe(visor(['--version']).stdout);
    expect(visorLab(['eval']).code).toBe(2); // missing <dataset>
  });

  it('models verify checks the models that are here, and passes when an optional one was never pulled', () => {
    // MobileNetV2 is in ../shared/models; an empty cache holds no CLIP weights (nor added models).
    const tmp = tempDir('visor-cli-verify-');
    const env = { VISOR_CACHE_DIR: tmp.dir };
    const all = visor(['models', 'verify'], { env });
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^ok\s+mobilenetv2-12-int8\/mobilenetv2-12-int8\.onnx/m);
    expect(all.stdout).not.toMatch(/clip-vit-b32/);
    expect(all.stderr).toMatch(/not downloaded \(not checked\): clip-vit-b32/);
    const named = visor(['models', 'verify', 'clip-vit-b32'], { env });
    expect(named.code).toBe(1);
    expect(named.stdout).toMatch(/^FAIL\s+clip-vit-b32\/\S+\s+missing/m);
    tmp.cleanup();
  });

  it('an unknown model id is wrong input: exit 2', () => {
    for (const cmd of ['pull', 'verify']) {
      const r = visor(['models', cmd, 'no-such-model']);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/unknown model "no-such-model"; known: mobilenetv2-12-int8/)]);
    }
  });

  it('says when no data sets search path is set', () => {
    const tmp = tempDir('visor-cli-nodata-');
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.VISOR_DATASETS_PATH;
    // Outside the repository: no visor.config.json, so no search path at all.
    const r = spawnSync(process.execPath, [LAB_CLI, 'eval', 'cifar10', '--limit', '5'], { cwd: tmp.dir, env, encoding: 'utf8' });
    tmp.cleanup();
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      'visor: data set cifar10-test not found (no data sets search path is set); set VISOR_DATASETS_PATH or datasetsPath in visor.config.json',
    );
  });

  it('serve with no index says how to make one, --create included', () => {
    const tmp = tempDir('visor-cli-serve-');
    const r = visor(['--db', path.join(tmp.dir, 'none'), 'serve', '--port', '0']);
    tmp.cleanup();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no Visor index at .*'visor index <folder>', or start with --create/);
  });

  it('an unquoted negative word gets a hint, not only "unknown option"', () => {
    const r = visor(['search', 'dog', '-grass']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '-grass'[\s\S]*to push results away from "grass", put it inside the quoted query, e\.g\. visor search "dog -grass"/);
    expect(visor(['search', 'dog', '--grass']).stderr).not.toMatch(/push results away/); // a mistyped option stays one
  });

  it('eval --out makes its folder first, and fails before the evaluation when it cannot', () => {
    const tmp = tempDir('visor-cli-out-');
    const blocker = path.join(tmp.dir, 'a-file');
    fs.writeFileSync(blocker, '');
    const r = visorLab(['eval', 'cifar10', '--out', path.join(blocker, 'report.json')]);
    const ok = visorLab(['eval', 'tags', '--limit', '3', '--progress', 'none', '--out', path.join(tmp.dir, 'new', 'report.json')]);
    const report = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'new', 'report.json'), 'utf8'));
    tmp.cleanup();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^visor: --out .*a-file\/report\.json: cannot make its folder \(/);
    expect(r.stderr).not.toMatch(/indexing|CIFAR/);
    expect(ok.code).toBe(0);
    expect(report.images).toBe(3);
  });

  it('a failed model download says what to do without network access', () => {
    const tmp = tempDir('visor-cli-dl-');
    const env: NodeJS.ProcessEnv = { ...process.env, VISOR_CACHE_DIR: tmp.dir, VISOR_MODEL_BASE_URL: 'http://127.0.0.1:9' };
    delete env.VISOR_OFFLINE;
    delete env.VISOR_MODELS_PATH;
    // Outside the repository (no visor.config.json): the model is nowhere, and port 9 refuses.
    const r = spawnSync(process.execPath, [CLI, 'models', 'pull', 'mobilenetv2-12-int8'], { cwd: tmp.dir, env, encoding: 'utf8' });
    tmp.cleanup();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^visor: Could not connect to download http:\/\/127\.0\.0\.1:9\/.*\n\(without network access: set VISOR_MODELS_PATH/m);
  });

  it('an unquoted -word that commander reads as a short option with a value gets a note', () => {
    const r = visor(['--db', path.join(ROOT, 'no-such-index'), 'search', 'dog', '-tree']);
    expect(r.stderr).toMatch(/^note: -tree was read as -t ree; to push results away from "tree", put it inside the quoted query/);
    expect(visor(['--db', path.join(ROOT, 'no-such-index'), 'search', '-k', '3', 'dog']).stderr).not.toMatch(/^note:/);
  });

  it('refuses a number that is not one (--l2, --lr, --compose-weight) instead of training on NaN', () => {
    const l2 = visorLab(['train', 'classify', '--column', 'kind', '--out', 'x.json', '--l2', 'abc']);
    expect([l2.code, l2.stderr]).toEqual([2, expect.stringMatching(/--l2 must be a number ≥ 0/)]);
    expect(visorLab(['train', 'compose', '--triplets', 't.csv', '--out', 'x.compose', '--lr', 'fast']).stderr).toMatch(/--lr must be a positive number/);
    expect(visor(['search', '--image', 'q.jpg', '--text', 'red', '--compose-weight', '-1']).stderr).toMatch(/--compose-weight must be a number ≥ 0/);
  });
});
