"""CRM fakes written from the vendors' public API documentation, independent of `spm_sync.sandbox`.

Why separate from the sandbox: the sandbox and our connectors were built by the same team from the
same assumptions; these fakes answer the way the documentation allows instead (short pages, extra
fields, nulls, string-typed values, partial batch failures, throttling), so a connector that only
works against our own emulator fails here. They import nothing from `spm_sync` or `connectors`.
"""
