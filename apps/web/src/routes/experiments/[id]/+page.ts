import { error } from '@sveltejs/kit';
import { api, ApiError } from '$lib/api';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params }) => {
  try {
    const [experiment, metrics, files, media] = await Promise.all([
      api.getExperiment(params.id),
      api.listMetrics(params.id),
      api.listFiles(params.id),
      api.listMedia(params.id),
    ]);
    return { experiment, metrics, files, media };
  } catch (e) {
    if (e instanceof ApiError) error(e.status || 500, e.message);
    throw e;
  }
};
