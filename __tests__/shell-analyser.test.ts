import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyseArgv, analyseShell, isExactNpmSpec, newShellState } from '../src/formats/shell.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

const summary = (text: string): string[] => analyseShell(text).map((i) => `${i.kind}:${i.line}`);

describe('shell analyser: flagged', () => {
  const table: [string, string, string[]][] = [
    ['bare pip install', 'pip install torch', ['unpinned-install:1']],
    ['range in quotes', 'pip3 install "torch>=2" numpy==1.26.4', ['unpinned-install:1']],
    ['python -m pip with flags', 'python3 -u -m pip install --upgrade --index-url https://x/simple torch', ['unpinned-install:1']],
    ['python -X option before -m', 'python -X utf8 -m pip install torch', ['unpinned-install:1']],
    ['npm option value before the subcommand', 'npm --prefix web install', ['unpinned-install:1']],
    ['env assignment and sudo', 'PIP_NO_CACHE_DIR=1 sudo -E -H pip install torch', ['unpinned-install:1']],
    ['sudo flags without values', 'sudo -n -i pip install torch\nenv -i PATH=/bin nice -n 5 pip install numpy', ['unpinned-install:1', 'unpinned-install:2']],
    ['continuations keep the first line', 'echo start\npip install \\\n  torch==2.3.1 \\\n  numpy', ['unpinned-install:2']],
    ['after && and ;', 'cd app && pip install torch; echo done', ['unpinned-install:1']],
    ['VCS at a branch', 'pip install git+https://github.com/org/lib@main', ['unpinned-install:1']],
    ['URL without digest', 'pip install https://example.com/pkg-1.0.tar.gz', ['unpinned-install:1']],
    ['uv pip', 'uv pip install --system torch', ['unpinned-install:1']],
    ['uv add range', 'uv add "torch>=2"', ['unpinned-install:1']],
    ['uv sync without --locked', 'uv sync', ['unpinned-install:1']],
    ['uvx', 'uvx ruff check .', ['unpinned-install:1']],
    ['pipx install', 'pipx install black', ['unpinned-install:1']],
    ['pipx run', 'pipx run cowsay hi', ['unpinned-install:1']],
    ['poetry add range', 'poetry add torch@^2.0', ['unpinned-install:1']],
    ['conda install', 'conda install -y -c conda-forge numpy', ['unpinned-install:1']],
    ['mamba wildcard', 'mamba install numpy=1.*', ['unpinned-install:1']],
    ['micromamba create', 'micromamba create -n env python', ['unpinned-install:1']],
    ['npm install without args', 'npm install', ['unpinned-install:1']],
    ['npm i range', 'npm i -g typescript@^5', ['unpinned-install:1']],
    ['npx unpinned', 'npx prettier --check .', ['unpinned-install:1']],
    ['npx -p unpinned', 'npx -p @scope/tool tool', ['unpinned-install:1']],
    ['yarn install', 'yarn install', ['unpinned-install:1']],
    ['bare yarn', 'yarn', ['unpinned-install:1']],
    ['yarn add', 'yarn add left-pad', ['unpinned-install:1']],
    ['pnpm i', 'pnpm i', ['unpinned-install:1']],
    ['pnpm dlx', 'pnpm dlx create-vite', ['unpinned-install:1']],
    ['curl | sh', 'curl -fsSL https://get.example.com | sh', ['download-and-run:1']],
    ['wget | sudo bash -s', 'wget -qO- https://x | sudo bash -s -- --yes', ['download-and-run:1']],
    ['curl | python -', 'curl -sSL https://install.python-poetry.org | python3 -', ['download-and-run:1']],
    ['bash <(curl)', 'bash <(curl -s https://x/install.sh)', ['download-and-run:1']],
    ['sh -c "$(curl)"', 'sh -c "$(curl -fsSL https://x/install.sh)"', ['download-and-run:1']],
    ['eval $(wget)', 'eval "$(wget -qO- https://x)"', ['download-and-run:1']],
    ['download then run', 'curl -fsSLo install.sh https://x/install.sh\nchmod +x install.sh\n./install.sh', ['download-and-run:3']],
    ['wget then bash', 'wget https://x/get.sh\nbash get.sh --yes', ['download-and-run:2']],
    ['redirect then sh', 'curl https://x/i.sh > i.sh\nsh i.sh', ['download-and-run:2']],
    ['inside sh -c', "docker run img sh -c 'pip install torch'", ['unpinned-install:1']],
    ['inside $( )', 'echo $(pip install torch)', ['unpinned-install:1']],
    ['here-doc fed to bash', "bash <<'EOF'\necho hi\npip install torch\nEOF", ['unpinned-install:3']],
    ['Dockerfile-style here-doc', '<<EOF\npip install torch\nEOF', ['unpinned-install:2']],
    ['two issues on two lines', 'pip install a\nnpm install', ['unpinned-install:1', 'unpinned-install:2']],
  ];
  it.each(table)('%s', (_name, text, want) => {
    expect(summary(text)).toEqual(want);
  });
});

describe('shell analyser: not flagged', () => {
  const table: [string, string][] = [
    ['exact pins', 'pip install torch==2.3.1 "numpy==1.26.4" transformers[torch]==4.41.2'],
    ['=== pin', 'pip install "legacy===1.0-custom"'],
    ['build variable', 'pip install torch==${TORCH_VERSION} "numpy==$NUMPY"'],
    ['workflow expression and build variable versions', 'pip install torch==${{ matrix.torch }} "numpy==$NUMPY_VERSION" jax==${JAX}'],
    ['editable extras', 'pip install -e ".[dev,test]"'],
    ['VCS at commit', `pip install git+https://github.com/org/lib@${SHA}`],
    ['local project', 'pip install .\npip install -e .\npip install --no-deps ./dist/pkg-1.0-py3-none-any.whl'],
    ['require-hashes', 'pip install --require-hashes -r requirements.txt torch'],
    ['pip other subcommands', 'pip freeze > out.txt\npip --version\npip download torch -d wheels'],
    ['npm ci then npx', 'npm ci\nnpx eslint .'],
    ['npx exact', 'npx prettier@3.3.2 --check .\nnpx -p @scope/tool@1.2.3 tool'],
    ['npm install exact', 'npm install -D typescript@5.5.4 @types/node@20.14.10 ./local-pkg'],
    ['npm run', 'npm run build\nnpm test'],
    ['yarn frozen', 'yarn install --frozen-lockfile\nyarn --immutable\nyarn build'],
    ['pnpm frozen', 'pnpm install --frozen-lockfile\npnpm run test'],
    ['uv locked', 'uv sync --locked\nuv sync --frozen\nuv run pytest\nuvx ruff@0.5.0 check'],
    ['uv tool exact', 'uv tool install --from ruff==0.5.0 ruff'],
    ['pipx exact', 'pipx install black==24.4.2\npipx run --spec cowsay==6.1 cowsay'],
    ['poetry', 'poetry install --no-root\npoetry add torch==2.3.1\npoetry add numpy@1.26.4'],
    ['conda exact', 'conda install -y -c conda-forge numpy=1.26.4 "scipy==1.13.1=py311h_0"\nconda env create -f environment.yml'],
    ['curl to a file and verify', 'curl -fsSLo i.sh https://x/i.sh\necho "abc  i.sh" | sha256sum -c -\nsh i.sh'],
    ['curl | python -c reads data', "curl -s https://api.example.com | python -c 'import json,sys; print(json.load(sys.stdin))'"],
    ['curl | jq', 'curl -s https://api.example.com | jq .'],
    ['curl | tar', 'curl -sSL https://x/a.tgz | tar xz'],
    ['here-doc data', 'cat <<EOF > notes.txt\npip install torch\nEOF'],
    ['comments', '# pip install torch\necho hi # npm install'],
    ['quoted text', 'echo "pip install torch"'],
    ['bash script file', 'bash scripts/build.sh'],
  ];
  it.each(table)('%s', (_name, text) => {
    expect(summary(text)).toEqual([]);
  });
});

describe('shell analyser: requirement files are left to the caller', () => {
  it('reports -r/-c installs for the repository files to decide', () => {
    const issues = analyseShell('pip install -r requirements.txt -c constraints.txt torch');
    expect(issues).toEqual([
      { kind: 'pip-files', line: 1, requirementFiles: ['requirements.txt'], constraintFiles: ['constraints.txt'], unpinned: ['torch'], command: 'pip install' },
    ]);
  });

  it('maps lines through lineOf', () => {
    const issues = analyseShell('echo\npip install torch', { lineOf: (l) => 40 + l });
    expect(issues.map((i) => i.line)).toEqual([41]);
  });

  it('shares state across calls (npm ci in one step, npx in the next)', () => {
    const state = newShellState();
    expect(analyseShell('npm ci', { state })).toEqual([]);
    expect(analyseShell('npx tsc', { state })).toEqual([]);
  });

  it('analyses exec-form commands', () => {
    expect(analyseArgv(['pip', 'install', 'torch'], 7).map((i) => `${i.kind}:${i.line}`)).toEqual(['unpinned-install:7']);
    expect(analyseArgv(['/bin/sh', '-c', 'curl https://x | sh'], 3).map((i) => `${i.kind}:${i.line}`)).toEqual(['download-and-run:3']);
    expect(analyseArgv(['pip', 'install', 'torch==2.3.1'], 7)).toEqual([]);
  });

  it('knows exact npm specs', () => {
    for (const s of ['a@1.2.3', '@s/a@1.2.3-rc.1', 'a@npm:b@2.0.0', `github:o/r#${SHA}`, './x', 'x.tgz']) expect(isExactNpmSpec(s)).toBe(true);
    for (const s of ['a', 'a@^1', 'a@latest', '@s/a', 'github:o/r#main', 'https://x/a.tgz']) expect(isExactNpmSpec(s)).toBe(false);
  });
});

describe('shell analyser: robustness', () => {
  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        for (const i of analyseShell(s)) expect(i.line).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on shell-shaped token soup', () => {
    const tokens = ['pip', 'install', 'torch', '==1', 'curl', 'https://x', '|', 'sh', 'bash', '-c', '<(', '$(', ')', '`', '"', "'", '\\', '\n', '&&', ';', '<<EOF', 'EOF', '<<-X', '>', '2>&1', 'npx', 'npm', 'i', '{', '}', '#', ' ', '-r', 'req.txt', 'sudo', 'A=1'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 80 }), (parts) => {
        analyseShell(parts.join(' '));
        analyseShell(parts.join(''));
      }),
      { numRuns: 1000 },
    );
  });

  it('stays fast on huge and deeply nested input', () => {
    const started = Date.now();
    analyseShell(`pip install ${'a'.repeat(2_000_000)}`);
    analyseShell('$('.repeat(20_000) + 'curl x | sh' + ')'.repeat(20_000));
    analyseShell('"'.repeat(100_001));
    analyseShell(`echo ${'$(echo '.repeat(2000)}`);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
