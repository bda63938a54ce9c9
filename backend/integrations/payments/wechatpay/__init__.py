"""WeChat Pay API v3: H5 checkout, signed requests, RSA-signed and AES-GCM-encrypted notifications."""
