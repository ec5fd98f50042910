// CPUID (SDM 2 CPUID): the leaves each model reports (model.ts).
//
// Leaf 0: the highest basic leaf and the vendor string. Leaf 1: the signature (type 0, family, model, stepping) in
// EAX; EBX and ECX are 0 (no brand index, no CLFLUSH, no APIC ID field, no ECX features on these chips); EDX the
// feature bits. Leaf 2 (P6): cache and TLB descriptors — Ringside models no caches, so AL = 1 (one iteration)
// and every descriptor byte is the null descriptor 00H. Any leaf above the maximum, the 8000_0000H range
// included, returns the highest basic leaf's data (SDM 2 CPUID, "If a value entered for CPUID.EAX is higher than
// the maximum input value …").

import { CPUID_VENDOR, featureBits, signature, type CpuModel } from './model';

export interface CpuidResult {
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

function vendorDword(k: number): number {
  let v = 0;
  for (let b = 3; b >= 0; b--) v = (v << 8) | CPUID_VENDOR.charCodeAt(k * 4 + b);
  return v;
}

/** What CPUID returns for `leaf` (EAX) on `model`; `apicPresent` adds the APIC feature bit. */
export function cpuidLeaf(model: CpuModel, apicPresent: boolean, leaf: number): CpuidResult {
  leaf >>>= 0;
  if (leaf > model.cpuidMaxLeaf) leaf = model.cpuidMaxLeaf;
  switch (leaf) {
    case 0:
      return { eax: model.cpuidMaxLeaf, ebx: vendorDword(0), edx: vendorDword(1), ecx: vendorDword(2) };
    case 1:
      return { eax: signature(model), ebx: 0, ecx: 0, edx: featureBits(model, apicPresent) };
    default:
      // Leaf 2: one iteration, null descriptors only.
      return { eax: 1, ebx: 0, ecx: 0, edx: 0 };
  }
}
