#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""On the host, after the build: the shared layer is one module (issue 11 item 3). TAP.

    libmod_check.py [REPO]

1. library_depends_on_kernel_modules_only: `modinfo -F depends` of rust/vfio_rs_kernel_ext.ko
   names none of our modules (every other .ko built in the tree), or the library would depend
   on its own users (a layer function calling a vfio.ko export must be #[inline] or generic).
2. defined_once: no symbol of the layer is defined in more than one of our modules. A defined
   symbol (T/t, D/d, B/b, R/r; not __pfx_/__cfi_) belongs to the layer if its demangled name
   mentions `vfio_rs_kernel_ext` or `::kernel_ext::`; the including crate's name is stripped
   so that copies in different modules compare equal (docs/design/shared-crate.md, §3).
"""
import collections
import os
import re
import subprocess
import sys

repo = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), '../../../..'))
LIB = 'rust/vfio_rs_kernel_ext.ko'
NM = os.environ.get('NM', 'llvm-nm-19')
# Crate roots of our modules (a generic of the layer instantiated in one of them names it).
crate = re.compile(r'\b(vfio_main|type1_main|vfio_rs_sample|[a-z0-9_]+_main)(\[[0-9a-f]+\])?::')

kos = []
for d, dirs, files in os.walk(repo):
    dirs[:] = [x for x in dirs if not x.startswith('.') and x not in ('out', 'target')]
    kos += [os.path.relpath(os.path.join(d, f), repo) for f in files if f.endswith('.ko')]
kos.sort()

print('TAP version 13')
print('1..2')
if LIB not in kos:
    print(f'not ok 1 library_depends_on_kernel_modules_only # {LIB} not built')
    print(f'not ok 2 defined_once # {LIB} not built')
    sys.exit(1)

bad = 0
ours = {os.path.basename(k)[:-3].replace('-', '_') for k in kos if k != LIB}
deps = subprocess.run(['modinfo', '-F', 'depends', os.path.join(repo, LIB)],
                      capture_output=True, text=True, check=True).stdout.strip()
wrong = sorted(set(d.replace('-', '_') for d in deps.split(',') if d) & ours)
if wrong:
    print(f'# {LIB}: depends={deps}: modules of ours: {",".join(wrong)}')
    print('not ok 1 library_depends_on_kernel_modules_only')
    bad = 1
else:
    print(f'ok 1 library_depends_on_kernel_modules_only # depends={deps}')

defs = collections.defaultdict(dict)  # normalized name -> {module: size}
for m in kos:
    out = subprocess.run([NM, '--defined-only', '-S', '-C', os.path.join(repo, m)],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        p = line.split(None, 3)
        if len(p) < 4 or p[2].lower() not in 'tdbr':
            continue
        name = p[3]
        if name.startswith(('__pfx_', '__cfi_')):
            continue
        if '::kernel_ext::' not in name and 'vfio_rs_kernel_ext' not in name:
            continue
        defs[crate.sub('CRATE::', name)][m] = int(p[1], 16)
dups = {k: v for k, v in defs.items() if len(v) > 1}
for k, v in sorted(dups.items(), key=lambda kv: -sum(kv[1].values()))[:25]:
    print(f'# {sum(v.values())} B in {", ".join(sorted(v))}: {k[:150]}')
msg = f'{len(defs)} symbols naming the layer in {len(kos)} modules, {len(dups)} defined more than once'
if dups:
    print(f'not ok 2 defined_once # {msg}')
    bad = 1
else:
    print(f'ok 2 defined_once # {msg}')
sys.exit(bad)
