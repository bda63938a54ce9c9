"""Text catalogs by area, merged into portal.i18n.CATALOG (each key in exactly one of them)."""
