"""Mailjet's Email API v3 REST, as a contact source: lists, contacts, their properties and
list memberships. httpx lives here (and in `klaviyo/`), nowhere else in the product.

    async with MailjetClient(ApiKey(key), ApiKey(secret)) as client:
        lists = await client.get_lists()
"""
