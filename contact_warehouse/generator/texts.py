"""Texts of the synthetic contact center: people's names, e-mail domains, and what customers, bots and agents
write in chats, SMS and survey comments."""

from __future__ import annotations

FIRST_NAMES = (
    "james",
    "mary",
    "robert",
    "patricia",
    "john",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "carlos",
    "karen",
    "daniel",
    "lisa",
    "matthew",
    "nancy",
    "anthony",
    "maria",
    "mark",
    "sandra",
    "wei",
    "ashley",
    "steven",
    "emily",
    "kevin",
    "priya",
    "brian",
    "michelle",
    "omar",
    "amanda",
    "jason",
    "melissa",
    "ahmed",
    "nicole",
)
LAST_NAMES = (
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "nguyen",
    "patel",
    "kim",
    "chen",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "hill",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")

GREETINGS = ("Hi", "Hello", "Hey", "Good morning", "hi there")
BOT_WELCOME = "Hi! I'm the virtual assistant. What can I help you with today?"
BOT_ANSWER = (
    "I can help with that. Here is an article that explains it: {article}",
    "Sure! You can do this yourself, see {article}",
    "Thanks. I found this for you: {article}. Did that answer your question?",
)
BOT_HANDOVER = "Let me connect you with an agent, one moment please."
BOT_OFFLINE = "Our agents are offline right now. Please leave your e-mail and we will get back to you."
BOT_NOT_UNDERSTOOD = "Sorry, I didn't get that. Could you rephrase?"
AGENT_LINES = (
    "Hi, my name is {name}, I'm looking into this for you now.",
    "Thanks for waiting. Let me check your account.",
    "I can see the problem on your account.",
    "I've made the change, it should be fixed within the hour.",
    "Could you confirm the e-mail address on the account?",
    "I've escalated this to our specialist team.",
)
AGENT_CLOSE = ("Is there anything else I can help with?", "Have a great day!", "Thanks for contacting us.")
POSITIVE = (
    "thanks, that was great help",
    "perfect, thank you so much!",
    "awesome, it works now. great service",
    "thank you, very helpful",
    "great, problem solved, thanks a lot",
)
NEGATIVE = (
    "this is terrible, still broken",
    "this is useless, nothing has been fixed",
    "I'm very disappointed and angry",
    "worst service ever, I've been waiting for hours",
    "still not working, this is awful",
)
NEUTRAL = ("ok", "I see", "let me check", "one moment", "yes", "it's on the account")
SMS_AGENT_REPLY = (
    "Hi, thanks for your message. Can you confirm your account number?",
    "Thanks, I'm checking this now.",
    "This is done on our side. Reply if you need anything else.",
    "Sorry for the trouble, I've raised a ticket for you.",
)
SMS_NOTIFY = {
    "login_issue": "Your verification code is {code}. It expires in 10 minutes.",
    "payment_arrangement": "Reminder: your payment of ${amount} is past due. Reply HELP or call us to arrange a plan.",
    "technical_fault": "Your technician visit is confirmed for tomorrow 8am-12pm. Reply C to change.",
    "open_account": "Welcome! Your new account is being set up. Reply here with any questions.",
}
SURVEY_POSITIVE = (
    "great help, thanks",
    "the agent was very friendly",
    "quick and easy",
    "excellent service",
    "problem solved on the first call",
)
SURVEY_NEGATIVE = (
    "terrible, had to call three times",
    "waited far too long",
    "still broken, very frustrating",
    "the agent did not understand my problem",
    "awful experience",
)
AGENT_NAMES = ("Alex", "Sam", "Jordan", "Taylor", "Casey", "Morgan", "Jamie", "Riley", "Drew", "Avery")
