"""Plain HTTP routes (Starlette) mounted into the Reflex app: health, auth cookies, webhooks, APIs."""
