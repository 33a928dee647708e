import { describe, expect, it } from 'vitest';
import {
  describeUhpGroup,
  packedIndexBytes,
  readPatternIndex,
  uhpBlocks,
  uhpGeometry,
  uhpGroupSize,
  uhpPatternBits,
  uhpPatternMasks,
  uhpPatternRanks,
  uhpPositions,
  writePatternIndex,
} from '../../src/sparsity/uhp-geometry.js';
import { referenceGroups } from './reference.js';

describe('UHP groups', () => {
  it('cut a conv whose input channels divide by M per tap, and every other row flat', () => {
    const conv = uhpGeometry([64, 32, 3, 3], 4);
    expect(conv).toMatchObject({
      grouping: 'channel', m: 4, outChannels: 64, inPerGroup: 32, kernel: [3, 3], taps: 9, rowLength: 288, groups: 72, stride: 9, lastSize: 4,
    });
    // Tap 0: channel groups 0..7 start at channels 0, 4, ..., 28; tap 1 follows.
    expect([...conv.starts.subarray(0, 9)]).toEqual([0, 36, 72, 108, 144, 180, 216, 252, 1]);
    const depthwise = uhpGeometry([32, 1, 3, 3], 4);
    expect(depthwise).toMatchObject({ grouping: 'flat', groups: 3, stride: 1, lastSize: 1 });
    expect(uhpGroupSize(depthwise, 2)).toBe(1);
    expect(uhpGeometry([10, 64], 16)).toMatchObject({ grouping: 'channel', kernel: null, groups: 4, stride: 1 });
    expect(uhpGeometry([10, 66], 16)).toMatchObject({ grouping: 'flat', groups: 5 });
    expect(() => uhpGeometry([10, 4, 3], 4)).toThrow(/\[O, Cg, kh, kw\] or \[O, I\], got \[10, 4, 3\]/);
  });

  it('agree with the reference group positions, padding as -1', () => {
    for (const { kind, shape } of [
      { kind: 'conv' as const, shape: [2, 8, 3, 3] },
      { kind: 'conv' as const, shape: [2, 3, 3, 3] },
      { kind: 'conv' as const, shape: [2, 4, 1, 1] },
      { kind: 'linear' as const, shape: [2, 11] },
      { kind: 'linear' as const, shape: [2, 12] },
    ]) {
      const want = referenceGroups(shape, kind, 4).map((group) => [...group, ...Array<number>(4 - group.length).fill(-1)]);
      expect([...uhpPositions(uhpGeometry(shape, 4))], shape.join('x')).toEqual(want.flat());
    }
  });

  it('are named for errors by tap and channels, or by flat range', () => {
    expect(describeUhpGroup(uhpGeometry([4, 8, 3, 3], 4), 5)).toBe('tap (0, 2), input channels 4..7');
    expect(describeUhpGroup(uhpGeometry([4, 8], 4), 1)).toBe('input channels 4..7');
    expect(describeUhpGroup(uhpGeometry([4, 3, 3, 3], 4), 6)).toBe('flattened weights 24..27');
  });

  it('share masks over blocks of output channels, the last one short', () => {
    expect(uhpBlocks(5, 2)).toEqual([{ start: 0, end: 2 }, { start: 2, end: 4 }, { start: 4, end: 5 }]);
  });
});

describe('UHP pattern indices', () => {
  it('number the kept sets in lexicographic order', () => {
    expect([...uhpPatternMasks(4, 2)]).toEqual([0b0011, 0b0101, 0b1001, 0b0110, 0b1010, 0b1100]);
    const ranks = uhpPatternRanks(4, 2);
    expect([ranks[0b0011], ranks[0b1100], ranks[0b0111], ranks[0b0001]]).toEqual([0, 5, -1, -1]);
  });

  it('take ceil(log2 C(M,N)) bits', () => {
    expect([uhpPatternBits(4, 2), uhpPatternBits(2, 1), uhpPatternBits(8, 4), uhpPatternBits(16, 8), uhpPatternBits(16, 1)]).toEqual([3, 1, 7, 14, 4]);
  });

  it('pack least significant bit first, across byte boundaries', () => {
    const stream = new Uint8Array(packedIndexBytes(3, 3));
    expect(stream.length).toBe(2);
    [5, 2, 7].forEach((index, slot) => writePatternIndex(stream, slot, 3, index));
    expect([...stream]).toEqual([0b11010101, 0b1]);
    expect([0, 1, 2].map((slot) => readPatternIndex(stream, slot, 3))).toEqual([5, 2, 7]);
  });
});
