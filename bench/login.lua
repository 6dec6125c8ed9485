-- wrk script: POST /api/auth/login with a registered user's credentials.
wrk.method = "POST"
wrk.body = '{"email":"bench@example.com","password":"correct horse battery"}'
wrk.headers["Content-Type"] = "application/json"
