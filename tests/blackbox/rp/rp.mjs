// A relying party built on openid-client v6, unmodified and used as its documentation shows,
// driven step by step by tests/blackbox/test_oidc_openid_client.py: one JSON request per line on
// stdin, one JSON answer per line on stdout. The browser's part (the hosted pages, the outbox) is
// the test's; everything an application does with the library happens here.
//
//   {"op": "discover", "issuer": ..., "clientId": ..., "clientSecret": ...} -> {"metadata"}
//   {"op": "authorize", "redirectUri": ..., "scope": ..., "prompt"?: ..., "responseMode"?: ...}
//                                                                          -> {"url", "state", "nonce"}
//   {"op": "callback", "url": <the redirect back, as the browser got it>,
//    "form"?: <the fields a response_mode=form_post page posted to it>}    -> {"tokens", "claims"}
//   {"op": "userinfo"}                                                      -> {"userinfo"}
//   {"op": "refresh"}                                                       -> {"tokens", "claims"}
//   {"op": "logout", "postLogoutRedirectUri": ...}                          -> {"url", "state"}
// A step the library refuses answers {"error": {"name", "code", "error", "message"}}.
import * as client from 'openid-client'
import { createInterface } from 'node:readline'

let config
let pending // what the authorization request keeps until the redirect back
let tokens

const steps = {
  async discover({ issuer, clientId, clientSecret }) {
    // Plain HTTP only because the service is on loopback; the checks are the same as over TLS.
    config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, {
      execute: [client.allowInsecureRequests],
    })
    // Verify the id token's signature against the provider's JWKS (by default openid-client
    // trusts the TLS connection to the token endpoint instead).
    client.enableNonRepudiationChecks(config)
    return { metadata: config.serverMetadata() }
  },

  async authorize({ redirectUri, scope, prompt, responseMode }) {
    const codeVerifier = client.randomPKCECodeVerifier()
    const parameters = {
      redirect_uri: redirectUri,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      nonce: client.randomNonce(),
      state: client.randomState(),
    }
    if (prompt) parameters.prompt = prompt
    if (responseMode) parameters.response_mode = responseMode
    pending = { codeVerifier, nonce: parameters.nonce, state: parameters.state }
    const url = client.buildAuthorizationUrl(config, parameters)
    return { url: url.href, state: parameters.state, nonce: parameters.nonce }
  },

  async callback({ url, form }) {
    // A form_post redirect back arrives as the POST request the page made; openid-client reads
    // its body as documented.
    const current = form
      ? new Request(url, { method: 'POST', body: new URLSearchParams(form) })
      : new URL(url)
    tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedNonce: pending.nonce,
      expectedState: pending.state,
      idTokenExpected: true,
    })
    return { tokens: { ...tokens }, claims: tokens.claims() }
  },

  async userinfo() {
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub)
    return { userinfo }
  },

  async refresh() {
    const first = tokens
    tokens = await client.refreshTokenGrant(config, first.refresh_token)
    if (!tokens.refresh_token) tokens.refresh_token = first.refresh_token
    return { tokens: { ...tokens }, claims: tokens.claims() }
  },

  async logout({ postLogoutRedirectUri }) {
    const state = client.randomState()
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: postLogoutRedirectUri,
      state,
    })
    return { url: url.href, state }
  },
}

function described(err) {
  return {
    name: err?.name,
    code: err?.code,
    error: err?.error ?? err?.cause?.error,
    error_description: err?.error_description ?? err?.cause?.error_description,
    message: String(err?.message ?? err),
    cause: err?.cause instanceof Error
      ? `${err.cause.name} ${err.cause.code ?? ''}: ${err.cause.message}`
      : err?.cause?.attribute ?? err?.cause?.parameter ?? undefined,
  }
}

const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  if (!line.trim()) continue
  let answer
  try {
    const request = JSON.parse(line)
    const step = steps[request.op]
    if (!step) throw new Error(`unknown step ${request.op}`)
    answer = await step(request)
  } catch (err) {
    answer = { error: described(err) }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
}
