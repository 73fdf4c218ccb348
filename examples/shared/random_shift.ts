// Data augmentation for digit images: each image moved by its own random whole-pixel offset, as
// torchvision's RandomAffine(translate=…) or RandomCrop(28, padding=…) would. Digits drawn a little
// off-centre are still the same digits, so a model trained on shifted copies sees more varied
// examples than the training set holds, and overfits less. Runs on the images' device: a pad and
// one gather; the offsets come from core's seeded generator (a resumed run draws the same ones).
import { gather, pad, randint, tensor, tidy, type Tensor } from '@webgrad/core';

/**
 * `x` (B, C, H, W) with image b moved by (dy_b, dx_b), each drawn uniformly from
 * [−maxShift, maxShift]; pixels moved in from outside are `fill`.
 */
export function randomShift(x: Tensor, maxShift: number, fill = 0): Tensor {
  if (!Number.isInteger(maxShift) || maxShift < 0) throw new RangeError(`randomShift: maxShift must be an integer >= 0, got ${maxShift}`);
  if (x.ndim !== 4) throw new RangeError(`randomShift: expected images (B, C, H, W), got shape [${x.shape.join(', ')}]`);
  if (maxShift === 0) return x;
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const s = maxShift;
  const Wp = W + 2 * s;
  const drawn = randint(-s, s + 1, [B, 2], { device: 'cpu' }); // (B, 2): dy, dx
  const offsets = drawn.dataSync();
  drawn.dispose();
  // out[b, c, i, j] = padded[b, c, i + s − dy, j + s − dx], as flat indices into the padded image.
  const index = new Int32Array(B * C * H * W);
  for (let b = 0, k = 0; b < B; b++) {
    const dy = offsets[2 * b]!;
    const dx = offsets[2 * b + 1]!;
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H; i++) {
        const row = (i + s - dy) * Wp + s - dx;
        for (let j = 0; j < W; j++) index[k++] = row + j;
      }
    }
  }
  return tidy(() => {
    const padded = pad(x, [s, s, s, s], fill).reshape([B, C, (H + 2 * s) * Wp]); // (B, C, Hp·Wp)
    const ix = tensor(index, { shape: [B, C, H * W], dtype: 'int32', device: x.device }); // (B, C, H·W)
    return gather(padded, 2, ix).reshape([B, C, H, W]); // (B, C, H, W)
  });
}
