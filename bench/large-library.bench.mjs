// A diffusers-sized ML library (issue 12): ~2,800 Python files, ~47 MB of
// Python, shaped like a large Hugging Face library: model code, pipelines whose
// docstrings show hub ids, loaders, conversion scripts, training examples, and
// tests that download tiny hub models. Generated once, deterministically, under
// the OS temporary directory; `mlgate check` runs in full mode on it, median of
// 3, then each rule alone for per-rule timings.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const BASE = path.join(tmpdir(), 'mlgate-bench', 'large-library');
const DIR = path.join(BASE, 'repo');
const STAMP = 'v3: 720 models, 700 pipelines, 60 loaders, 50 scripts, 220 examples, 1100 tests, furniture';
const RUNS = Number(process.env.MLGATE_BENCH_RUNS ?? 3);
/** CPU time (user + system) of the run, which a loaded machine inflates far less than wall time. */
const TIME = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'mlgate-cpu %U %S'] : [];
const RULE_IDS = ['unsafe-deserialization', 'model-hub-pinning', 'dependency-pinning', 'model-file-safety', 'model-signing', 'dataset-provenance', 'threat-model', 'model-card', 'artifact-ownership'];

/** A small deterministic generator, so every machine measures the same repository. */
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const SHA = '0123456789abcdef0123456789abcdef01234567';

/** Model code: layers, attention, forward passes, long docstrings; no loads at all. */
function modelFile(i, r) {
  const parts = [`# Copyright 2026 The Example Team.\n"""Model ${i}: building blocks of a diffusion model."""\nimport math\nfrom typing import Optional, Tuple\n\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\nfrom ..configuration_utils import ConfigMixin, register_to_config\nfrom ..modeling_utils import ModelMixin\n\n`];
  const blocks = 11 + Math.floor(r() * 9);
  for (let b = 0; b < blocks; b++) {
    parts.push(`class Block${i}_${b}(nn.Module):
    r"""
    A residual block with ${b % 3 === 0 ? 'cross-attention' : 'group normalisation'}.

    Parameters:
        in_channels (\`int\`): The number of input channels.
        out_channels (\`int\`, *optional*): The number of output channels; defaults to \`in_channels\`.
        dropout (\`float\`, *optional*, defaults to 0.0): The dropout probability to use.
        temb_channels (\`int\`, *optional*, default to \`512\`): the number of channels in timestep embedding.
        groups (\`int\`, *optional*, default to \`32\`): The number of groups to use for the first normalization layer.
    """

    def __init__(self, in_channels: int, out_channels: Optional[int] = None, dropout: float = 0.0, temb_channels: int = 512, groups: int = 32):
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        self.norm1 = nn.GroupNorm(num_groups=groups, num_channels=in_channels, eps=1e-6, affine=True)
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, out_channels)
        self.norm2 = nn.GroupNorm(num_groups=groups, num_channels=out_channels, eps=1e-6, affine=True)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.nonlinearity = nn.SiLU()
        self.use_shortcut = in_channels != out_channels
        if self.use_shortcut:
            self.conv_shortcut = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, padding=0)

    def forward(self, hidden_states: torch.Tensor, temb: Optional[torch.Tensor] = None, scale: float = 1.0) -> torch.Tensor:
        residual = hidden_states
        hidden_states = self.norm1(hidden_states)
        hidden_states = self.nonlinearity(hidden_states)
        hidden_states = self.conv1(hidden_states)
        if temb is not None:
            temb = self.time_emb_proj(self.nonlinearity(temb))[:, :, None, None]
            hidden_states = hidden_states + temb
        hidden_states = self.norm2(hidden_states)
        hidden_states = self.nonlinearity(hidden_states)
        hidden_states = self.dropout(hidden_states)
        hidden_states = self.conv2(hidden_states)
        if self.use_shortcut:
            residual = self.conv_shortcut(residual)
        # Rescale so deep stacks keep unit variance: ${b} * ${(r() * 10).toFixed(3)}
        return (residual + hidden_states) / math.sqrt(2.0) * scale

`);
  }
  parts.push(`class Model${i}(ModelMixin, ConfigMixin):
    """The model. Load it with \`Model${i}.from_pretrained("example/model-${i}")\`."""

    @register_to_config
    def __init__(self, channels: int = 320, layers: int = 4):
        super().__init__()
        self.blocks = nn.ModuleList([Block${i}_0(channels) for _ in range(layers)])

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> Tuple[torch.Tensor]:
        for block in self.blocks:
            sample = block(sample)
        return (sample,)
`);
  return parts.join('');
}

/** A pipeline: an example docstring with hub ids (strings, not code) and a long __call__. */
function pipelineFile(i, r) {
  const parts = [`import inspect
from typing import Any, Callable, Dict, List, Optional, Union

import torch

from ...models import AutoencoderKL, UNet2DConditionModel
from ...schedulers import KarrasDiffusionSchedulers
from ...utils import logging, replace_example_docstring
from ..pipeline_utils import DiffusionPipeline

logger = logging.get_logger(__name__)

EXAMPLE_DOC_STRING = """
    Examples:
        \`\`\`py
        >>> import torch
        >>> from example import Pipeline${i}

        >>> pipe = Pipeline${i}.from_pretrained("example/model-${i}", torch_dtype=torch.float16)
        >>> pipe = pipe.to("cuda")
        >>> image = pipe("an astronaut riding a horse").images[0]
        \`\`\`
"""

`];
  const helpers = 8 + Math.floor(r() * 7);
  for (let h = 0; h < helpers; h++) {
    parts.push(`def retrieve_step_${h}(scheduler, num_inference_steps: Optional[int] = None, device: Optional[Union[str, torch.device]] = None, **kwargs):
    """
    Calls the scheduler's \`set_timesteps\` method and retrieves timesteps from the scheduler after the call.

    Args:
        scheduler (\`SchedulerMixin\`): The scheduler to get timesteps from.
        num_inference_steps (\`int\`): The number of diffusion steps used when generating samples with a pre-trained model.
        device (\`str\` or \`torch.device\`, *optional*): The device to which the timesteps should be moved to.
    """
    accepts = "timesteps" in set(inspect.signature(scheduler.set_timesteps).parameters.keys())
    if not accepts:
        raise ValueError(f"The current scheduler class {scheduler.__class__}'s \`set_timesteps\` does not support custom schedules ({${h}}).")
    scheduler.set_timesteps(num_inference_steps, device=device, **kwargs)
    timesteps = scheduler.timesteps
    return timesteps, len(timesteps)

`);
  }
  parts.push(`class Pipeline${i}(DiffusionPipeline):
    model_cpu_offload_seq = "text_encoder->unet->vae"

    def __init__(self, vae: AutoencoderKL, unet: UNet2DConditionModel, scheduler: KarrasDiffusionSchedulers):
        super().__init__()
        self.register_modules(vae=vae, unet=unet, scheduler=scheduler)
        self.vae_scale_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)

    def decode_latents(self, latents):
        latents = 1 / self.vae.config.scaling_factor * latents
        image = self.vae.decode(latents, return_dict=False)[0]
        return (image / 2 + 0.5).clamp(0, 1)

    @torch.no_grad()
    @replace_example_docstring(EXAMPLE_DOC_STRING)
    def __call__(self, prompt: Union[str, List[str]] = None, num_inference_steps: int = 50, guidance_scale: float = 7.5, callback: Optional[Callable[[int, int, torch.Tensor], None]] = None, cross_attention_kwargs: Optional[Dict[str, Any]] = None):
        timesteps, num_inference_steps = retrieve_step_0(self.scheduler, num_inference_steps, self._execution_device)
        latents = torch.randn((1, 4, 64, 64), device=self._execution_device)
        for i, t in enumerate(timesteps):
            noise_pred = self.unet(latents, t, cross_attention_kwargs=cross_attention_kwargs, return_dict=False)[0]
            latents = self.scheduler.step(noise_pred, t, latents, return_dict=False)[0]
            if callback is not None:
                callback(i, t, latents)
        return self.decode_latents(latents)
`);
  return parts.join('');
}

/** Loading utilities: safe loads, pass-throughs, hub downloads with a revision parameter. */
function loaderFile(i) {
  return `import os
from pathlib import Path

import safetensors.torch
import torch
from huggingface_hub import hf_hub_download

from ..utils import logging

logger = logging.get_logger(__name__)


def load_state_dict(checkpoint_file, map_location="cpu", weights_only=True):
    """Reads a checkpoint: safetensors when possible, else torch.load restricted to tensors."""
    if str(checkpoint_file).endswith(".safetensors"):
        return safetensors.torch.load_file(checkpoint_file, device=map_location)
    return torch.load(checkpoint_file, map_location=map_location, weights_only=weights_only)


def load_lora_${i}(pretrained_model_name_or_path, weight_name=None, revision=None, **kwargs):
    load_kwargs = {"map_location": "cpu", "weights_only": True}
    if os.path.isdir(pretrained_model_name_or_path):
        path = os.path.join(pretrained_model_name_or_path, weight_name or "pytorch_lora_weights.bin")
        return torch.load(path, **load_kwargs)
    path = hf_hub_download(pretrained_model_name_or_path, weight_name, revision=revision, cache_dir=kwargs.get("cache_dir"))
    return load_state_dict(path)


def from_local_${i}(cls, model_dir, **kwargs):
    model = cls.from_pretrained(os.path.join(model_dir, "unet"), trust_remote_code=kwargs.get("trust_remote_code", False))
    vae = cls.from_pretrained(Path(model_dir) / "vae")
    return model, vae
${'\n'.repeat(2)}${'# Loading notes: state dicts are read with weights_only=True; see the docs.\n'.repeat(40)}`;
}

/** A conversion script: the real findings, torch.load of a downloaded original checkpoint. */
function scriptFile(i) {
  return `import argparse

import torch
import yaml

from example import Model${i % 700}


def convert(checkpoint_path, config_path, dump_path):
    original = torch.load(checkpoint_path, map_location="cpu")
    with open(config_path) as f:
        config = yaml.load(f, Loader=yaml.FullLoader)
    model = Model${i % 700}(**config["model"])
    model.load_state_dict(original["state_dict"])
    model.save_pretrained(dump_path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint_path", required=True)
    parser.add_argument("--config_path", required=True)
    parser.add_argument("--dump_path", required=True)
    args = parser.parse_args()
    convert(args.checkpoint_path, args.config_path, args.dump_path)
${'# '.padEnd(100, '-') + '\n'}`.repeat(1) + modelFile(10_000 + i, rng(i)).slice(0, 4000).replace(/^/gm, '# ');
}

/** A training example: hub ids from arguments, pinned by a revision argument. */
function exampleFile(i, r) {
  const body = [`import argparse
import os

import torch
from transformers import AutoTokenizer, CLIPTextModel

from example import DiffusionPipeline, UNet2DConditionModel


def parse_args():
    parser = argparse.ArgumentParser(description="Training example ${i}.")
    parser.add_argument("--pretrained_model_name_or_path", type=str, required=True)
    parser.add_argument("--revision", type=str, default=None)
    parser.add_argument("--output_dir", type=str, default="out")
    return parser.parse_args()


def main():
    args = parse_args()
    tokenizer = AutoTokenizer.from_pretrained(args.pretrained_model_name_or_path, subfolder="tokenizer", revision=args.revision)
    text_encoder = CLIPTextModel.from_pretrained(args.pretrained_model_name_or_path, subfolder="text_encoder", revision=args.revision)
    unet = UNet2DConditionModel.from_pretrained(args.pretrained_model_name_or_path, subfolder="unet", revision=args.revision)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-4)
    for step in range(1000):
        loss = unet(torch.randn(1, 4, 64, 64), step).sample.mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    unet.save_pretrained(os.path.join(args.output_dir, "unet"))
    pipeline = DiffusionPipeline.from_pretrained(os.path.join(args.output_dir), unet=unet, text_encoder=text_encoder, tokenizer=tokenizer)
    return pipeline
`];
  const extra = 8 + Math.floor(r() * 8);
  for (let k = 0; k < extra; k++) {
    body.push(`

def log_validation_${k}(pipeline, args, accelerator, epoch):
    """Runs the pipeline on validation prompts and logs the images (${k})."""
    images = []
    generator = torch.Generator(device=accelerator.device).manual_seed(${k})
    for _ in range(4):
        with torch.autocast("cuda"):
            image = pipeline("a photo of a dog", num_inference_steps=30, generator=generator).images[0]
        images.append(image)
    for tracker in accelerator.trackers:
        tracker.log({"validation": [str(i) for i, _ in enumerate(images)]}, step=epoch)
    return images
`);
  }
  return body.join('');
}

/** A test: tiny hub models (unpinned, in tests), save/load round trips, pickling checks. */
function testFile(i, r) {
  const parts = [`import gc
import pickle
import tempfile
import unittest

import numpy as np
import torch

from example import Model${i % 700}, Pipeline${i % 700}
from example.utils.testing_utils import require_torch_gpu, slow, torch_device


class Model${i}Tests(unittest.TestCase):
    def get_dummy_components(self):
        torch.manual_seed(0)
        return {"unet": Model${i % 700}(channels=32, layers=2)}

    def test_save_load(self):
        model = Model${i % 700}(channels=32, layers=2)
        with tempfile.TemporaryDirectory() as tmpdir:
            torch.save(model.state_dict(), f"{tmpdir}/model.bin")
            state = torch.load(f"{tmpdir}/model.bin")
        model.load_state_dict(state)

    def test_pickle(self):
        components = self.get_dummy_components()
        copy = pickle.loads(pickle.dumps(components))
        self.assertEqual(len(copy), len(components))

    def test_from_hub(self):
        pipe = Pipeline${i % 700}.from_pretrained("hf-internal-testing/tiny-pipeline-${i % 40}")
        image = pipe("a prompt", num_inference_steps=2, output_type="np").images
        self.assertEqual(image.shape, (1, 64, 64, 3))
`];
  const extra = 8 + Math.floor(r() * 8);
  for (let k = 0; k < extra; k++) {
    parts.push(`
    def test_inference_${k}(self):
        components = self.get_dummy_components()
        pipe = Pipeline${i % 700}(**components)
        pipe.set_progress_bar_config(disable=None)
        inputs = {"prompt": "A painting of a squirrel eating a burger", "num_inference_steps": 2, "guidance_scale": 6.0}
        image = pipe(**inputs).images
        image_slice = image[0, -3:, -3:, -1]
        expected_slice = np.array([0.5643, 0.6017, 0.4799, 0.5267, 0.5584, 0.4641, 0.5166, 0.5306, 0.4880])
        assert np.abs(image_slice.flatten() - expected_slice).max() < ${(1e-3 * (k + 1)).toFixed(4)}
`);
  }
  if (i % 5 === 0) {
    parts.push(`
    @slow
    @require_torch_gpu
    def test_full_model(self):
        pipe = Pipeline${i % 700}.from_pretrained("example/model-${i % 700}", revision="${SHA}")
        gc.collect()
        assert pipe is not None
`);
  }
  return parts.join('');
}

const LFS = (n) => `version https://git-lfs.github.com/spec/v1\noid sha256:${n.toString(16).padStart(64, '0')}\nsize ${1_000_000_000 + n}\n`;

/**
 * What surrounds the Python in a large library, in the shapes issue 12 found
 * on real ones: container files under every name, workflows (one whose flow
 * sequence closes at the key's indentation, as GitHub accepts), a notebook and
 * a download script that fetch weights, data directories that hold code and
 * configuration besides data, and a sharded model whose weights are in LFS.
 */
const FURNITURE = {
  'docker/Dockerfile-gpu': 'FROM nvidia/cuda@sha256:' + 'a'.repeat(64) + '\nRUN pip install --extra-index-url https://download.pytorch.org/whl/cu121 torch==2.4.1\nRUN ["/bin/sh", "-c", "curl -fsSL https://get.example.com/install.sh | sh"]\n',
  'docker/cpu.Dockerfile': 'FROM python@sha256:' + 'b'.repeat(64) + '\nRUN sudo pip install accelerate\n',
  'docker/Containerfile': 'FROM python@sha256:' + 'c'.repeat(64) + '\nRUN conda run -n base pip install transformers\n',
  '.github/workflows/tests.yml': [
    'name: tests',
    'on: [push, pull_request]',
    'permissions: {}',
    'jobs:',
    '  test:',
    '    runs-on: ubuntu-latest',
    '    strategy:',
    '      matrix:',
    '        python: [',
    '          "3.10", "3.11", "3.12"',
    '        ]',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      - uses: actions/setup-python@v5',
    '      - run: pip install -e ".[test]"',
    '      - run: python -m pytest tests',
    '',
  ].join('\n'),
  'notebooks/quickstart.ipynb': JSON.stringify({ cells: [{ cell_type: 'code', metadata: {}, outputs: [], execution_count: null, source: ['!wget https://example.com/weights/model.pth\n', '%pip install -qr requirements.txt\n'] }], metadata: {}, nbformat: 4, nbformat_minor: 5 }),
  'requirements.txt': 'torch==2.4.1\nsafetensors==0.4.5\n',
  'scripts/download_weights.sh': '#!/bin/sh\nset -e\ncurl -L -o ckpt/model.ckpt https://example.com/ckpt/model.ckpt\n',
  'models/llm/config.json': '{"architectures": ["ExampleForCausalLM"], "hidden_size": 4096}\n',
  ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`models/llm/model-0000${i + 1}-of-00008.safetensors`, LFS(i + 1)])),
  ...Object.fromEntries(
    Array.from({ length: 12 }, (_, i) => [
      [`data/task${i}/train.csv`, 'text,label\nhello,1\n'],
      [`data/task${i}/prepare.py`, 'import csv\n'],
      [`data/task${i}/download.sh`, '#!/bin/sh\necho fetch\n'],
      [`data/task${i}/config.yaml`, 'batch_size: 32\n'],
      [`data/task${i}/README.md`, '# task\n'],
    ]).flat(),
  ),
};

async function put(rel, text) {
  const abs = path.join(DIR, rel);
  await mkdir(path.dirname(abs), { recursive: true });
  await writeFile(abs, text);
}

async function prepare() {
  const stamp = path.join(BASE, 'READY');
  if (existsSync(stamp) && (await readFile(stamp, 'utf8')) === STAMP) return;
  console.log('generating a diffusers-sized library (once)…');
  await rm(BASE, { recursive: true, force: true });
  const r = rng(12);
  for (let i = 0; i < 720; i++) await put(`src/example/models/family${i % 24}/modeling_${i}.py`, modelFile(i, r));
  for (let i = 0; i < 700; i++) await put(`src/example/pipelines/family${i % 70}/pipeline_${i}.py`, pipelineFile(i, r));
  for (let i = 0; i < 60; i++) await put(`src/example/loaders/loader_${i}.py`, loaderFile(i));
  for (let i = 0; i < 50; i++) await put(`scripts/convert_${i}_to_example.py`, scriptFile(i));
  for (let i = 0; i < 220; i++) await put(`examples/task${i % 22}/train_${i}.py`, exampleFile(i, r));
  for (let i = 0; i < 1100; i++) await put(`tests/${i % 2 ? 'pipelines' : 'models'}/group${i % 30}/test_${i}.py`, testFile(i, r));
  await put('setup.py', 'from setuptools import setup\n\nsetup(name="example", install_requires=["torch>=2.1", "safetensors>=0.4"])\n');
  await put('README.md', '# example\n\nA diffusion library.\n');
  for (const [rel, text] of Object.entries(FURNITURE)) await put(rel, text);
  await writeFile(path.join(DIR, '.gitattributes'), '*.safetensors filter=lfs diff=lfs merge=lfs -text\n');
  const git = (...args) => execFileSync('git', args, { cwd: DIR, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.com' } });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'base');
  for (const id of RULE_IDS) {
    const rules = RULE_IDS.filter((o) => o !== id).map((o) => `  ${o}: {level: off}`).join('\n');
    await writeFile(path.join(BASE, `only-${id}.yml`), `version: 1\nextends: ["mlgate:recommended"]\nrules:\n${rules}\n`);
  }
  await writeFile(stamp, STAMP);
}

function timed(argv) {
  const t0 = process.hrtime.bigint();
  const full = [...TIME, ...argv];
  const r = spawnSync(full[0], full.slice(1), { cwd: REPO, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  const cpu = /mlgate-cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN, stdout: r.stdout };
}

const fmt = (r) => `${r.ms.toFixed(0)} ms (CPU ${r.cpuMs.toFixed(0)} ms)`;


export default async function run() {
  await prepare();
  // MLGATE_BENCH_CLI=/other/dist/cli.js measures another build on the same repository (before/after tables).
  const cli = process.env.MLGATE_BENCH_CLI ?? path.join(REPO, 'dist', 'cli.js');
  const full = [process.execPath, cli, 'check', DIR, '--format', 'json'];
  const runs = [];
  let report;
  for (let i = 0; i < RUNS; i++) {
    const r = timed(full);
    runs.push(r);
    report = JSON.parse(r.stdout);
  }
  const files = execFileSync('git', ['-C', DIR, 'ls-files', '*.py'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  let bytes = 0;
  for (const f of files) bytes += (await readFile(path.join(DIR, f))).length;
  console.log(`${files.length} Python files, ${(bytes / 1e6).toFixed(1)} MB of Python, mlgate:recommended, ${availableParallelism()} cores (load average ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
  const mid = [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)];
  console.log(`full run: median ${fmt(mid)} of ${RUNS}: ${runs.map(fmt).join(', ')}\n`);
  const counts = {};
  for (const f of report.findings) {
    const code = (f.code ?? '').slice((f.code ?? '').lastIndexOf('/') + 1);
    const key = `${f.rule}|${code}|${f.level}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  console.log('| rule alone | time |');
  console.log('| --- | ---: |');
  const only = process.env.MLGATE_BENCH_RULES?.split(',') ?? RULE_IDS;
  for (const id of only) {
    const r = timed([process.execPath, cli, 'check', DIR, '--format', 'json', '--policy', path.join(BASE, `only-${id}.yml`)]);
    console.log(`| ${id} | ${fmt(r)} |`);
  }
  console.log('\n| finding | level | count |');
  console.log('| --- | --- | ---: |');
  for (const [key, n] of Object.entries(counts).sort()) {
    const [rule, code, level] = key.split('|');
    console.log(`| ${rule}${code ? `/${code}` : ''} | ${level} | ${n} |`);
  }
}
