"""callbill: month-end billing warehouse for business phone providers."""
