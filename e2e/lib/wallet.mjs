import { generateKeyPairSync, createHash } from 'node:crypto'

// newWallet makes an Arweave wallet the way arweave-js does: RSA-4096, e=65537, as a JWK.
export function newWallet () {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 4096, publicExponent: 65537 })
  return privateKey.export({ format: 'jwk' })
}

export function addressOf (jwk) {
  return createHash('sha256').update(Buffer.from(jwk.n, 'base64url')).digest('base64url')
}
