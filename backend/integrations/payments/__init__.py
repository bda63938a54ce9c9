"""Payment provider adapters: one package per PSP, the only place its SDK is imported."""
