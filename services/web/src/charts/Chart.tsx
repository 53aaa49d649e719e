// A chart that loads ECharts on first use, so the first screen does not wait for it.
import { Suspense, lazy } from 'react';
import { Loading } from '../app/ui';
import type { EChartProps } from './EChart';

const EChart = lazy(() => import('./EChart'));

export type { ChartOption } from './EChart';

export function Chart(props: EChartProps) {
  return (
    <Suspense fallback={<Loading label="Drawing the chart" />}>
      <EChart {...props} />
    </Suspense>
  );
}
