// Validation accuracy per epoch as an SVG line chart (the train package's lineChart), one line per model.
import { lineChart } from '@webgrad/train';

export interface AccuracySeries {
  name: string;
  /** [epoch, accuracy in [0, 1]] */
  points: readonly (readonly [number, number])[];
}

/** Accuracy (%) against epoch. */
export function accuracyChart(series: readonly AccuracySeries[], title = 'Validation accuracy'): string {
  return lineChart(
    series.map((s) => ({ name: s.name, points: s.points.map(([e, a]): [number, number] => [e, 100 * a]), markers: true })),
    { title, xLabel: 'epoch', yLabel: 'accuracy (%)' },
  );
}
