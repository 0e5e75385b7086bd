import { error } from '@sveltejs/kit';
import { api, ApiError } from '$lib/api';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params }) => {
  try {
    const [experiment, metrics, datasets, files, media, models] = await Promise.all([
      api.getExperiment(params.id),
      api.listMetrics(params.id),
      api.datasets(params.id),
      api.listFiles(params.id),
      api.listMedia(params.id),
      api.runModels(params.id),
    ]);
    return { experiment, metrics, datasets, files, media, models };
  } catch (e) {
    if (e instanceof ApiError) error(e.status || 500, e.message);
    throw e;
  }
};
