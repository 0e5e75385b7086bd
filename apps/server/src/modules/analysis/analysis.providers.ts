import type { AiConfig } from '../../config.js';

/** A failed provider call; `retryable` is false where asking again cannot help (a redirect). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
  }
}

export interface Prompt {
  system: string;
  user: string;
}

async function post(ai: AiConfig, url: string, headers: Record<string, string>, body: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(ai.timeoutMs),
      // Never follow: fetch would send the request again, key header included, to wherever the
      // Location points (only Authorization is dropped, and only across origins).
      redirect: 'manual',
    });
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    throw new ProviderError(
      name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${ai.timeoutMs} ms` : 'could not reach the provider',
    );
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw new ProviderError(
      `the provider answered with a redirect (HTTP ${res.status}), which is not followed so the key is not sent elsewhere; set TORA_AI_BASE_URL to the final address`,
      false,
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ProviderError(`the provider answered HTTP ${res.status}${res.status === 429 ? ' (rate limited)' : ''}`);
  }
  try {
    return await res.json();
  } catch {
    throw new ProviderError('the provider sent a body that is not JSON');
  }
}

/** Anthropic Messages API: POST {base}/v1/messages; the text is in content[].text. */
async function anthropic(ai: AiConfig, prompt: Prompt): Promise<string> {
  const body = (await post(
    ai,
    `${ai.baseUrl}/v1/messages`,
    { 'x-api-key': ai.apiKey ?? '', 'anthropic-version': '2023-06-01' },
    { model: ai.model, max_tokens: 4096, system: prompt.system, messages: [{ role: 'user', content: prompt.user }] },
  )) as { content?: { type?: string; text?: unknown }[] };
  const text = Array.isArray(body.content)
    ? body.content.map((c) => (c.type === 'text' && typeof c.text === 'string' ? c.text : '')).join('')
    : '';
  if (!text) throw new ProviderError('the provider answer has no text content');
  return text;
}

/** OpenAI-compatible Chat Completions: POST {base}/chat/completions; the text is choices[0].message.content. */
async function openai(ai: AiConfig, prompt: Prompt): Promise<string> {
  const headers: Record<string, string> = ai.apiKey ? { authorization: `Bearer ${ai.apiKey}` } : {};
  const body = (await post(ai, `${ai.baseUrl}/chat/completions`, headers, {
    model: ai.model,
    messages: [
      { role: 'system', content: prompt.system },
      { role: 'user', content: prompt.user },
    ],
    response_format: { type: 'json_object' },
  })) as { choices?: { message?: { content?: unknown } }[] };
  const text = body.choices?.[0]?.message?.content;
  if (typeof text !== 'string' || !text) throw new ProviderError('the provider answer has no message content');
  return text;
}

/** Sends a prompt to the configured LLM provider and returns its text; errors never carry the key. */
export function askProvider(ai: AiConfig, prompt: Prompt): Promise<string> {
  switch (ai.provider) {
    case 'anthropic':
      return anthropic(ai, prompt);
    case 'openai':
      return openai(ai, prompt);
    case 'builtin':
      return Promise.reject(new ProviderError('the built-in analyzer is not an LLM provider'));
  }
}
