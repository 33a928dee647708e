import { describe, expect, it } from 'vitest';
import { escapeXml } from '../../src/plot/escape.js';
import { lineChart } from '../../src/plot/line-chart.js';
import { expectWellFormed } from './svg-parse.js';

describe('escapeXml', () => {
  it('escapes markup characters and drops those XML forbids', () => {
    expect(escapeXml(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
    expect(escapeXml('bell\u0007 tab\t')).toBe('bell tab\t');
    expect(escapeXml('µ·é 2:4')).toBe('µ·é 2:4');
  });

  it('keeps hostile titles and series names inert in a chart', () => {
    const svg = lineChart({
      title: '<script>alert(1)</script> & co',
      x: [1, 2],
      xLabel: 'epoch "x"',
      panels: [{ title: 'a<b', yLabel: 'y', series: [{ name: '"><rect/>', values: [1, 2], color: '#000' }] }],
    });
    expectWellFormed(svg);
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; co');
    expect(svg).toContain('data-name="&quot;&gt;&lt;rect/&gt;"');
  });
});
