"""The conversation over SMS and WhatsApp."""
