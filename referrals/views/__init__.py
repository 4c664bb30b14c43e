"""Referral pages: the crew's refer form, status page and list; the partner's inbox and answers.

Every action goes through referrals.services (the same functions as the API) and every
read through referrals.selectors; access is decided by directory.permissions. Pages that
show a patient's details record the read (patient_access_record, channel "page").

- refer.py: the refer page (whether a crew can refer, and why not) and the sending wait
- refer_form.py: the refer form, mapped onto the API's body and its refusals back
- crew.py: the crew's referral status and its live part, cancel, today's list
- partner.py: the partner's inbox and its live part, and the answer to a referral
- shared.py: who may open crew and partner pages, the timeline, a live part's poll
"""
